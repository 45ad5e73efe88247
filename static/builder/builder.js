// The course builder's behaviour (ADR 0205). The server renders the tree; every change is an
// htmx request that answers with the whole tree re-rendered, so this file only (1) makes the
// lists sortable by drag and drop (SortableJS), (2) offers the same moves from the keyboard
// (Alt+ArrowUp/Down on a focused row), (3) posts the new order, and (4) after each swap puts
// focus back where the person was and says what happened in the aria-live region; (5) saves
// the lesson editor beside the tree by itself (autosave, below).
(function () {
  "use strict";
  var root = document.querySelector("[data-builder]");
  if (!root || !window.htmx || !window.Sortable) return;
  var live = document.getElementById("builder-live");
  var offline = document.getElementById("builder-offline");
  var csrf = JSON.parse(root.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  // After a move: the row to focus and the sentence to say once the new tree is in.
  var pending = null;
  // A move is being saved: the next waits, so every move is made on the order the server has.
  var busy = false;

  function say(text) {
    if (!live || !text) return;
    // Emptied first, so the same sentence twice is announced twice.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function idsOf(list) {
    return Array.prototype.map.call(list.children, function (row) { return row.dataset.id; })
      .filter(Boolean);
  }

  function post(list, rowId, sentence) {
    var name = list.dataset.sortable === "modules" ? "module_ids" : "lesson_ids";
    var values = {};
    values[name] = idsOf(list).join(",");
    pending = { focus: rowId, sentence: sentence };
    busy = true;
    htmx.ajax("POST", list.dataset.orderUrl, {
      target: "#builder-tree",
      swap: "outerHTML",
      values: values,
      headers: { "X-CSRFToken": csrf },
    });
  }

  function place(row) {
    // "position 2 of 3 in Module 1": read from the list the row is in now.
    var list = row.parentElement;
    var rows = Array.prototype.filter.call(list.children, function (r) { return r.dataset.id; });
    var where = "position " + (rows.indexOf(row) + 1) + " of " + rows.length;
    if (list.dataset.sortable === "lessons") {
      var module = list.closest(".builder-module");
      where += " in “" + module.dataset.title + "”";
    }
    return "“" + row.dataset.title + "” moved to " + where + ".";
  }

  function makeSortable(tree) {
    tree.querySelectorAll("[data-sortable]").forEach(function (list) {
      if (list.dataset.sortableReady) return;
      list.dataset.sortableReady = "1";
      var lessons = list.dataset.sortable === "lessons";
      Sortable.create(list, {
        group: lessons ? "lessons" : "modules",
        handle: ".builder-handle",
        draggable: lessons ? ".builder-lesson" : ".builder-module",
        animation: 120,
        // Pointer events instead of native drag and drop: the same behaviour with a mouse, a pen
        // or a finger, and a dragged row that stays readable.
        forceFallback: true,
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          // Into another module: the target's new list names the arriving lesson; the server
          // moves it there and orders the rest. The source keeps its order without it.
          post(event.to, event.item.id, place(event.item));
        },
      });
    });
  }

  function keyMove(event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    var row = event.target.closest(".builder-lesson, .builder-module");
    if (!row || !row.parentElement.dataset.sortable) return;
    // A text field keeps Alt+arrows for itself; rows and their buttons move the row.
    if (event.target.matches("input, select, textarea")) return;
    event.preventDefault();
    event.stopPropagation();
    if (busy) { say("Saving the last move; try again in a moment."); return; }
    var list = row.parentElement;
    var up = event.key === "ArrowUp";
    var sibling = up ? row.previousElementSibling : row.nextElementSibling;
    if (sibling) {
      list.insertBefore(row, up ? sibling : sibling.nextElementSibling);
    } else if (list.dataset.sortable === "lessons") {
      // At the edge of its module: into the end of the previous module, or the start of the next.
      var module = list.closest(".builder-module");
      var next = up ? module.previousElementSibling : module.nextElementSibling;
      var target = next && next.querySelector("[data-sortable=lessons]");
      if (!target) { say("“" + row.dataset.title + "” is already " + (up ? "first." : "last.")); return; }
      if (up) target.appendChild(row); else target.insertBefore(row, target.firstElementChild);
      list = target;
    } else {
      say("“" + row.dataset.title + "” is already " + (up ? "first." : "last."));
      return;
    }
    row.focus();
    post(list, row.id, place(row));
  }

  root.addEventListener("keydown", keyMove);

  // Our endpoints mark their answers; a refusal (4xx) carries the tree with its sentence and is
  // swapped in like a success. Anything else (a sign-in page, a 404 page, a 500) is not.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.getResponseHeader("X-Builder-Tree") || xhr.getResponseHeader("X-Builder-Editor")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      if (offline) offline.hidden = true;
    } else {
      event.detail.shouldSwap = false;
      pending = null;
      if (editorSave(event.detail)) {
        editorState("Not saved (the server answered " + xhr.status + "); your text is kept.", "error");
      }
      if (offline) {
        offline.textContent = xhr.status === 404
          ? "This course is no longer open to you here. Reload the page."
          : "That did not work (the server answered " + xhr.status + "). Reload the page and try again.";
        offline.hidden = false;
      }
    }
  });

  document.body.addEventListener("htmx:afterRequest", function () { busy = false; });

  document.body.addEventListener("htmx:sendError", function (event) {
    pending = null;
    if (editorSave(event.detail)) {
      editorState("Not saved: the server could not be reached; your text is kept.", "error");
    }
    if (offline) { offline.textContent = "The server could not be reached; nothing was changed."; offline.hidden = false; }
  });

  // Every swap on this page replaces the tree.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "builder-editor") {
      // A lesson opened (or reloaded) in the editor: put the person in it.
      var heading = document.getElementById("builder-editor-heading");
      if (heading) heading.focus();
      return;
    }
    // The editor's saves swap only its status, version and errors: the tree stays as it is.
    if (target && target.id !== "builder-tree") return;
    var tree = document.getElementById("builder-tree");
    if (!tree) return;
    makeSortable(tree);
    var error = tree.querySelector("[data-builder-error]");
    var focusId = pending && !error ? pending.focus : tree.dataset.focus;
    var sentence = error ? "" : pending ? pending.sentence : tree.dataset.announce;
    pending = null;
    var focus = focusId && document.getElementById(focusId);
    if (focus) {
      if (focus.tabIndex < 0 && focus.querySelector("button")) focus = focus.querySelector("button");
      focus.focus();
    } else if (error) {
      error.setAttribute("tabindex", "-1");
      error.focus();
    }
    say(sentence);
  });

  // --- the lesson editor beside the tree: autosave ---------------------------------------
  // A save starts 800 ms after typing stops, and at once when a field loses focus or a box is
  // ticked. One save at a time: changes made meanwhile are saved when it is answered, with
  // the version it brought back (else the editor would conflict with its own save). While a
  // conflict is shown nothing is saved until the person picks Reload or Overwrite.
  var AUTOSAVE_DELAY = 800;
  var timer = null;
  var saving = false;
  var again = false;

  // By its address, not its element: Overwrite's button is replaced by the answer it brings.
  function editorSave(detail) {
    var config = detail && detail.requestConfig;
    return Boolean(config && config.verb === "post" && /\/lessons\/\d+\/edit\/$/.test(config.path));
  }

  function editorForm() {
    var form = document.getElementById("builder-editor-form");
    return form && form.hasAttribute("data-autosave") ? form : null;
  }

  function editorState(text, state) {
    var status = document.getElementById("builder-editor-status");
    if (!status) return;
    status.textContent = text;
    status.dataset.state = state;
  }

  function autosave() {
    var form = editorForm();
    window.clearTimeout(timer);
    timer = null;
    if (!form || !form.dataset.dirty) return;
    if (form.querySelector("[data-conflict]")) return;
    if (saving) { again = true; return; }
    delete form.dataset.dirty;
    htmx.trigger(form, "builder:autosave");
  }

  root.addEventListener("input", function (event) {
    var form = editorForm();
    if (!form || event.target.form !== form) return;
    form.dataset.dirty = "1";
    if (!form.querySelector("[data-conflict]")) editorState("Unsaved changes", "dirty");
    window.clearTimeout(timer);
    timer = window.setTimeout(autosave, AUTOSAVE_DELAY);
  });

  // "change" comes when a text field with a new value loses focus, and when a box is ticked.
  root.addEventListener("change", function (event) {
    var form = editorForm();
    if (form && event.target.form === form) { form.dataset.dirty = "1"; autosave(); }
  });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (!editorSave(event.detail)) return;
    var form = editorForm();
    // A Save click or Overwrite sends everything typed so far: no separate autosave is due.
    if (form) { window.clearTimeout(timer); delete form.dataset.dirty; }
    saving = true;
    editorState("Saving…", "saving");
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!editorSave(event.detail)) return;
    saving = false;
    var form = editorForm();
    if (form && (again || form.dataset.dirty)) {
      again = false;
      form.dataset.dirty = "1";
      autosave();
    }
  });

  makeSortable(document.getElementById("builder-tree"));
})();
