"""The demo catalogs of `seed_demo`, as data: categories, courses, modules and lessons.

acme and globex get different catalogs, so anyone comparing the two sites sees that
tenants do not share content. The prose is meant to be read: it is what a visitor
opening a demo lesson sees. `seed_demo` turns this into rows, media and revisions.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from courses.models import EnrollmentPolicy, LessonKind, Level


def _md(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent: str | None = None  # slug of a top-level category


@dataclass(frozen=True)
class DocumentSpec:
    """A PDF made by core.pdf.pdf_document (plain text, "## " headings, "- " items)."""

    name: str
    title: str
    subtitle: str
    body: str


@dataclass(frozen=True)
class LessonSpec:
    title: str
    minutes: int
    body: str
    kind: str = LessonKind.TEXT
    preview: bool = False
    document: DocumentSpec | None = None  # for document lessons
    requires: tuple[str, ...] = ()  # titles of lessons in the same course to complete first


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    summary: str
    lessons: list[LessonSpec]
    opens_after_days: int | None = None  # drip: days after the learner enrolls


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    summary: str
    description: str
    category: str
    level: str
    modules: list[ModuleSpec]
    policy: str = EnrollmentPolicy.OPEN

    @property
    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]


@dataclass(frozen=True)
class LearnerJourney:
    """Where the demo learner is in one course: lessons done, and a video part-watched."""

    course: str
    completed: list[str]  # lesson titles, completed in this order
    video: str  # title of the video lesson the learner stopped in
    video_position: int  # seconds


@dataclass(frozen=True)
class Catalog:
    categories: list[CategorySpec]
    courses: list[CourseSpec]
    journey: LearnerJourney


# --- acme: Acme Academy (a manufacturer: safety on the floor, office skills, managers) -------

ACME_HAZARD_CHECKLIST = DocumentSpec(
    name="acme-hazard-checklist",
    title="Hazard-spotting checklist",
    subtitle="Acme Academy \u00b7 Workplace Safety Essentials \u00b7 print it, walk it, file it",
    body="""
        Use this checklist for a ten-minute walk of your own area at the start of a shift or
        once a week. Walk the route people really use, not the one on the floor plan. Tick what
        is fine, write down what is not, and fix what you safely can on the spot. Everything
        else goes into an incident or hazard report the same day.

        ## Floors and walkways
        - Walkways are clear: no boxes, pallets, tools or bags left in the way.
        - No trailing cables across places people walk; cable covers are used where needed.
        - Floors are dry; spills are cleaned or marked with a sign until they are.
        - Mats lie flat and edges are not curled up.
        - Lighting works along the whole route, including stairs and corners.

        ## Storage and lifting
        - Heavy items are stored between knee and shoulder height.
        - Shelving is not overloaded, bent or missing its anchors.
        - Nothing is stacked higher than the shelf edge or balanced on top of racking.
        - Trolleys, pallet trucks and step stools are where people need them.

        ## Machines and tools
        - Guards are in place and nobody has taped over or wedged open an interlock.
        - Emergency stops are visible, unobstructed and labelled.
        - Damaged tools are tagged out of use and kept apart from good ones.
        - Leads and plugs have no cuts, scorch marks or exposed wires.

        ## Fire and emergencies
        - Fire exits open from the inside without a key, and the way to them is clear.
        - Fire doors close on their own and are not propped open.
        - Extinguishers are on their brackets, with an inspection tag from the last year.
        - First aid kits are stocked and everyone nearby knows the first aiders.
        - The assembly point is signposted and the evacuation plan is on the wall.

        ## Chemicals and waste
        - Every container is labelled with what is in it, including decanted bottles.
        - Safety data sheets are available for the substances used in this area.
        - Protective gloves, glasses and masks are available, in the right sizes.
        - Waste is sorted into the right bins and none is overflowing.

        ## People
        - Everyone in the area has had the induction for the work they are doing.
        - New starters and visitors know where the exits and first aid are.
        - Nobody is working alone on a task that the risk assessment says needs two.

        ## After the walk
        Write the date, the area and your name at the top of your notes. Fix what you can
        now, report what you cannot, and tell your supervisor about anything that could
        hurt someone today. A hazard that was spotted but not reported has not been dealt
        with. Keep your completed checklists: patterns over several weeks show where the
        same problem keeps coming back, and that is where a lasting fix is needed.
    """,
)

WORKPLACE_SAFETY = CourseSpec(
    slug="workplace-safety-essentials",
    title="Workplace Safety Essentials",
    summary="Spot hazards before they hurt anyone, lift and move things safely, and know what to do "
    "when something goes wrong.",
    description=_md("""
        Everyone at Acme, on the floor or in the office, shares responsibility for keeping each
        other safe. This course covers the habits that prevent most injuries and what to do
        when prevention was not enough.

        **You will learn to:**

        - recognise the hazards behind the most common workplace injuries;
        - tell a hazard from a risk, and pick controls that actually work;
        - lift, carry and move loads without hurting your back;
        - report incidents and near misses so the same thing does not happen twice;
        - leave the building quickly and calmly when the alarm sounds.

        It takes about an hour. Finish it in your first month, then refresh it every year.
    """),
    category="health-and-safety",
    level=Level.BEGINNER,
    modules=[
        ModuleSpec(
            title="Why safety is everyone's job",
            summary="How the course works, and the ideas the rest of it builds on.",
            lessons=[
                LessonSpec(
                    title="Welcome: how this course works",
                    minutes=5,
                    preview=True,
                    body=_md("""
                        Most workplace injuries are not dramatic accidents. They are a sprained
                        ankle from a cable nobody moved, a strained back from a box that was
                        lifted the quick way, a cut from a guard that was left open "just for a
                        minute". The good news is that the same small habits prevent almost all
                        of them.

                        ## What you will do in this course

                        The course has three modules. Each lesson takes five to ten minutes,
                        and you can stop at any point: the platform remembers where you were.

                        1. **Why safety is everyone's job**: the vocabulary we use, and why it
                           matters who notices a problem first.
                        2. **Everyday hazards**: a walkthrough of a real hazard walk, then slips,
                           trips and falls, and moving loads safely.
                        3. **When something goes wrong**: reporting incidents and near misses,
                           the hazard-spotting checklist, and evacuation.

                        ## How to get the most out of it

                        - Do the lessons in order; later ones assume the earlier ideas.
                        - Keep your own workplace in mind. After each lesson, think of one place
                          where it applies to you.
                        - Mark each lesson complete when you are done, so your progress is kept.

                        > Safety is not a department. It is what each of us does when nobody is
                        > checking.

                        If anything in this course contradicts the procedure posted at your
                        site, the site procedure wins: tell your supervisor so one of them can be
                        corrected.
                    """),
                ),
                LessonSpec(
                    title="Hazards, risks and controls",
                    minutes=10,
                    body=_md("""
                        Three words come up in every safety conversation. They are easy to mix
                        up, and mixing them up leads to poor decisions.

                        ## Hazard

                        A **hazard** is anything that could cause harm: a wet floor, a spinning
                        blade, a solvent, a heavy box, a tired driver. A hazard does not have to
                        be dangerous right now to count; it only needs the potential to hurt.

                        ## Risk

                        A **risk** is how likely the hazard is to cause harm, combined with how
                        bad that harm would be. A forklift parked in a locked bay is a hazard
                        with little risk; the same forklift reversing through a busy walkway is
                        a high risk.

                        | Hazard | Low-risk situation | High-risk situation |
                        | --- | --- | --- |
                        | Wet floor | Signed, in an empty corridor | Unmarked, by the canteen at noon |
                        | Box of 25 kg | Lifted with a trolley | Lifted alone from floor level |
                        | Solvent | Sealed and labelled | Decanted into an unmarked bottle |

                        ## Controls

                        A **control** is whatever reduces the risk. Controls are not all equal.
                        From most to least effective:

                        1. **Remove** the hazard altogether (do we need the solvent at all?).
                        2. **Substitute** something less dangerous (a water-based cleaner).
                        3. **Engineer** it away (a guard, extraction, a barrier).
                        4. **Administrative** controls (procedures, training, signs, rotas).
                        5. **Personal protective equipment** (gloves, glasses, ear defenders).

                        Protective equipment is the last line of defence, not the first: it only
                        works when it is worn, fits, and is in good condition. If the only
                        control for a serious hazard is "wear gloves", ask whether something
                        higher up the list is possible.

                        ## Try it

                        Pick one task you do every week. Name its main hazard, say whether the
                        risk is low or high, and name the control that is in place. Is it the
                        most effective one available?
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Everyday hazards",
            summary="A hazard walk, slips and trips, and moving loads without injury.",
            lessons=[
                LessonSpec(
                    title="Watch: a hazard walk, step by step",
                    minutes=1,
                    kind=LessonKind.VIDEO,
                    body=_md("""
                        A hazard walk is a short, deliberate tour of an area with one question in
                        mind: *what here could hurt someone today?* The clip above stands in for
                        the filmed walk (in this demo it is a generated test pattern; the bar
                        along the bottom shows how far you have watched).

                        ## What the walk covers

                        - **Start where people start**: the entrance, the lockers, the first
                          corridor. That is where rushed people meet clutter.
                        - **Follow the real route**, including the shortcut everyone uses.
                        - **Look down, then up**: floors and cables first, then high shelves,
                          lights and anything stored above head height.
                        - **Stop at every machine** and check that guards and emergency stops are
                          in place and reachable.
                        - **End at the fire exit** and open it.

                        Take the hazard-spotting checklist from module 3 with you the first few
                        times; after a while you will not need it.
                    """),
                ),
                LessonSpec(
                    title="Slips, trips and falls",
                    minutes=8,
                    body=_md("""
                        Slips, trips and falls are the most common cause of workplace injury in
                        almost every industry, offices included. They are also among the easiest
                        to prevent.

                        ## Why people slip

                        A slip happens when there is too little grip between shoe and floor.
                        The usual causes are:

                        - liquids: water from a leaking roof, a spilled drink, oil near machines;
                        - dust, packaging film or sawdust on a smooth floor;
                        - a change from a rough surface to a polished one;
                        - the wrong footwear for the job.

                        Clean spills straight away. If you cannot, stand by the spill or put a
                        sign on it, then fetch what you need. "Someone else will deal with it" is
                        how most slips happen.

                        ## Why people trip

                        A trip happens when your foot meets something you did not expect. Cables
                        across walkways, open drawers, a box left "just for a moment", a curled
                        mat edge and a single unexpected step are the classic culprits. Keep
                        walkways clear, route cables along walls, and close drawers with your
                        knee on the way past.

                        ## Falls from height

                        A fall from a ladder or a step stool is far more serious than a trip on
                        the level. Before you climb:

                        1. Is a ladder the right tool, or is a platform or a long-reach tool
                           safer?
                        2. Is the ladder in good condition, on firm level ground, and footed or
                           tied if it needs to be?
                        3. Can you keep three points of contact (two feet and a hand) the whole
                           time?

                        > Never stand on a chair, a desk or a box to reach something. It takes
                        > two minutes to fetch the step stool; a broken wrist takes six weeks.
                    """),
                ),
                LessonSpec(
                    title="Manual handling without injury",
                    minutes=8,
                    body=_md("""
                        Back injuries from lifting build up over years and can stay with you for
                        life. Good technique matters, but the most important decision comes
                        before the lift: does this need to be lifted by hand at all?

                        ## Before you lift

                        - **Avoid** the lift if you can: use a trolley, a pallet truck, a hoist,
                          or split the load into smaller parts.
                        - **Assess** the load: how heavy is it, is the weight off-centre, is there
                          something to grip, could the contents shift?
                        - **Check the route**: is the way clear, are there doors or steps, and is
                          there somewhere to put the load down at the other end?
                        - **Ask for help** with anything awkward or heavy. Two people lifting
                          together should agree who gives the instructions.

                        ## The lift

                        1. Stand close to the load with your feet apart, one slightly forward.
                        2. Bend your knees and keep the natural curve of your back.
                        3. Get a firm grip, hugging the load close to your waist.
                        4. Lift smoothly with your legs, keeping your head up.
                        5. Move your feet to turn; do not twist at the waist.
                        6. Put the load down the same way, then adjust its position.

                        ## Guideline weights

                        There is no single "safe" weight, because the position of the load
                        matters as much as its mass. As a rough guide for one person lifting
                        close to the body at waist height, stay below 25 kg for men and 16 kg
                        for women, and far below that when lifting from the floor, above the
                        shoulders, or at arm's length. When in doubt, treat the load as a
                        two-person lift.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="When something goes wrong",
            opens_after_days=7,
            summary="Reporting, the checklist, and leaving the building safely.",
            lessons=[
                LessonSpec(
                    title="Reporting incidents and near misses",
                    minutes=7,
                    body=_md("""
                        An **incident** is an event in which someone was hurt or property was
                        damaged. A **near miss** is an event that could have caused harm but, by
                        luck or quick reactions, did not. Both must be reported.

                        ## Why near misses matter

                        For every serious injury there are typically dozens of minor ones and
                        hundreds of near misses with the same causes. Each near miss is a free
                        warning. Reporting it costs five minutes; ignoring it may cost someone
                        their health.

                        ## What to report

                        Report as soon as it is safe to, and always before the end of your
                        shift. A good report answers:

                        - **What happened?** Facts, in order, without guessing at blame.
                        - **Where and when?** The exact location and time.
                        - **Who was involved** or saw it?
                        - **What was the outcome?** Injury, damage, or nothing this time.
                        - **What did you do straight away** to make it safe?

                        ## What happens next

                        Your supervisor reviews the report, the safety team looks for causes
                        rather than culprits, and the action taken is shared with the team. You
                        will never be disciplined for reporting in good faith, including when
                        the mistake was your own.

                        > The only bad report is the one that was not made.
                    """),
                ),
                LessonSpec(
                    title="Hazard-spotting checklist (PDF)",
                    minutes=5,
                    kind=LessonKind.DOCUMENT,
                    document=ACME_HAZARD_CHECKLIST,
                    body=_md("""
                        Download or print the checklist above and use it on your next hazard
                        walk. It follows the order of the walk in module 2: floors and walkways,
                        storage, machines, fire safety, chemicals, and people.

                        Keep your completed checklists for a few weeks. When the same item keeps
                        coming back, report it as a hazard: it needs a lasting fix, not another
                        tidy-up.
                    """),
                ),
                LessonSpec(
                    title="Fire and evacuation",
                    requires=("Reporting incidents and near misses",),
                    minutes=6,
                    body=_md("""
                        When the fire alarm sounds, the aim is simple: everybody out, quickly
                        and calmly, and everybody accounted for.

                        ## When you hear the alarm

                        1. Stop what you are doing and make machines safe only if it takes a
                           second (press the emergency stop).
                        2. Leave by the nearest exit; do not use lifts.
                        3. Do not go back for bags, coats or phones.
                        4. Close doors behind you to slow the spread of smoke.
                        5. Go straight to the assembly point and report to the fire warden.

                        ## If you discover a fire

                        Raise the alarm at the nearest call point first, then call the
                        emergency number. Only tackle a fire with an extinguisher if it is
                        small, you have been trained, and your way out is behind you.

                        ## Know before you need it

                        - Where are the two nearest exits from where you usually work?
                        - Where is your assembly point?
                        - Who is the fire warden for your area this week?

                        If you do not know all three answers, find out today.
                    """),
                ),
            ],
        ),
    ],
)

SPREADSHEET_SKILLS = CourseSpec(
    slug="spreadsheet-skills",
    title="Spreadsheet Skills for Everyday Work",
    summary="From tidy data entry to formulas, lookups and pivot tables: the spreadsheet skills "
    "most office jobs actually use.",
    description=_md("""
        Spreadsheets run a surprising share of every business: rotas, budgets, stock lists,
        project trackers. This course teaches the parts you will use every week, in any
        spreadsheet program.

        - Lay out data so that formulas, filters and charts just work.
        - Write formulas with confidence, including references that copy correctly.
        - Look values up from another table instead of copying them by hand.
        - Summarise hundreds of rows with a pivot table in a minute.
    """),
    category="office-tools",
    level=Level.INTERMEDIATE,
    modules=[
        ModuleSpec(
            title="Getting around",
            summary="Workbooks, sheets, cells, and data laid out the right way.",
            lessons=[
                LessonSpec(
                    title="Workbooks, sheets and cells",
                    minutes=6,
                    preview=True,
                    body=_md("""
                        A spreadsheet file is a **workbook**. Inside it are **sheets** (the
                        tabs along the bottom), and each sheet is a grid of **cells**. A cell is
                        named by its column letter and row number: `B3` is the second column,
                        third row.

                        ## Moving quickly

                        | Keys | What they do |
                        | --- | --- |
                        | `Ctrl` + arrow | Jump to the edge of the data in that direction |
                        | `Ctrl` + `Home` | Go to cell `A1` |
                        | `Shift` + arrow | Extend the selection |
                        | `Ctrl` + `Space` | Select the whole column |
                        | `F2` | Edit the current cell |

                        Learning just these five saves a surprising amount of scrolling.

                        ## One table per sheet

                        The single most useful habit is to keep each sheet to **one table**:

                        - one header row at the top, with a short unique name per column;
                        - one row per record (one order, one employee, one day);
                        - no blank rows or columns inside the table;
                        - no merged cells, and no totals mixed in with the data.

                        Data laid out like this can be sorted, filtered, looked up and
                        summarised without any rework. Data that is laid out "to look nice"
                        usually has to be rebuilt before it can be analysed.
                    """),
                ),
                LessonSpec(
                    title="Entering and formatting data",
                    minutes=8,
                    body=_md("""
                        A spreadsheet treats numbers, dates and text differently. Most
                        mysterious results come from a value that looks like one type but is
                        stored as another.

                        ## Numbers and text

                        Numbers align right by default, text aligns left. If a column of
                        amounts is aligned left, they were probably pasted in as text and will
                        be ignored by `SUM`. Convert them (most programs offer "convert to
                        number" on the warning icon) rather than retyping.

                        Never type units into a number cell: `12 kg` is text. Put the unit in
                        the column header (`Weight (kg)`) and keep the cell a plain `12`.

                        ## Dates

                        Dates are stored as numbers (days since a fixed start date) and merely
                        displayed as dates. That is why you can subtract one date from another
                        to get a number of days. Type dates in an unambiguous form such as
                        `2026-03-14` to avoid day/month confusion.

                        ## Formatting that helps

                        - Format numbers to a sensible number of decimals; the stored value does
                          not change.
                        - Freeze the header row so it stays visible as you scroll.
                        - Use conditional formatting to highlight exceptions (overdue dates,
                          negative balances) rather than colouring cells by hand.

                        Formatting changes how a value looks, never what it is. Keep that
                        distinction in mind and half of all spreadsheet surprises disappear.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Formulas that do the work",
            summary="Functions, references that copy correctly, and lookups.",
            lessons=[
                LessonSpec(
                    title="Your first formulas: SUM, AVERAGE, COUNT",
                    minutes=9,
                    body=_md("""
                        Every formula starts with `=`. After that you can combine cell
                        references, numbers, operators (`+ - * /`) and functions.

                        ## The everyday functions

                        | Function | Example | Result |
                        | --- | --- | --- |
                        | `SUM` | `=SUM(C2:C50)` | Total of the range |
                        | `AVERAGE` | `=AVERAGE(C2:C50)` | Mean of the numbers |
                        | `COUNT` | `=COUNT(C2:C50)` | How many cells hold numbers |
                        | `COUNTA` | `=COUNTA(A2:A50)` | How many cells are not empty |
                        | `MIN`, `MAX` | `=MAX(C2:C50)` | Smallest or largest value |

                        ## Conditional versions

                        The `IF` family lets you total or count only the rows that match a
                        condition:

                        - `=SUMIF(B2:B50, "North", C2:C50)` totals column C where column B is
                          "North";
                        - `=COUNTIF(D2:D50, ">100")` counts values above 100;
                        - `=AVERAGEIFS(C2:C50, B2:B50, "North", E2:E50, "2026")` averages with
                          two conditions.

                        ## Check your work

                        Select a range and look at the status bar: most programs show its sum,
                        average and count there. It is the quickest way to sanity-check a
                        formula's result before you rely on it.
                    """),
                ),
                LessonSpec(
                    title="Relative and absolute references",
                    minutes=8,
                    body=_md("""
                        When you copy a formula, its references move with it. `=B2*C2` copied
                        one row down becomes `=B3*C3`. That is a **relative** reference, and it
                        is what you want most of the time.

                        ## When references must not move

                        Suppose cell `F1` holds the VAT rate and every row needs
                        `=C2*F1`. Copied down, the second row becomes `=C3*F2`, which points at
                        an empty cell. The fix is an **absolute** reference: `=C2*$F$1`. The
                        dollar signs pin the column and the row.

                        | Written | Column moves? | Row moves? |
                        | --- | --- | --- |
                        | `F1` | yes | yes |
                        | `$F$1` | no | no |
                        | `$F1` | no | yes |
                        | `F$1` | yes | no |

                        Press `F4` while editing a reference to cycle through the four forms.

                        ## Named cells

                        Better still, give the cell a name such as `vat_rate` and write
                        `=C2*vat_rate`. The formula explains itself, and it keeps working if
                        the cell is moved.
                    """),
                ),
                LessonSpec(
                    title="Looking things up with XLOOKUP",
                    minutes=10,
                    body=_md("""
                        Copying prices, names or codes from one table into another by hand is
                        slow and error-prone. A lookup formula fetches them for you and stays
                        correct when the source changes.

                        ## The shape of a lookup

                        `=XLOOKUP(what, where_to_look, what_to_return, if_not_found)`

                        For example, with product codes in `Products!A:A` and prices in
                        `Products!C:C`:

                        `=XLOOKUP(B2, Products!A:A, Products!C:C, "no such product")`

                        finds the code in `B2` and returns its price.

                        ## Why not VLOOKUP?

                        Older workbooks use `VLOOKUP`, which only looks to the right, counts
                        columns by number (and breaks when a column is inserted), and defaults
                        to an approximate match that silently returns wrong answers on
                        unsorted data. If you must use it, always pass `FALSE` as the last
                        argument for an exact match.

                        ## Common problems

                        - **Not found**, though the value is visible: look for stray spaces
                          (`TRIM` removes them) or numbers stored as text.
                        - **Wrong row returned**: the lookup range and the return range are
                          not the same size or do not start on the same row.
                        - **Slow workbook**: thousands of lookups over whole columns; limit the
                          ranges to the table, or turn the data into a table (next lesson).
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Making sense of data",
            summary="Sorting, filtering, tables and pivot tables.",
            lessons=[
                LessonSpec(
                    title="Sorting, filtering and tables",
                    minutes=7,
                    body=_md("""
                        Once your data is one clean table, turning it into a formal **table**
                        (often "Format as table" or `Ctrl` + `T`) unlocks a lot.

                        ## What a table gives you

                        - Filter buttons on every header, for sorting and filtering.
                        - Formulas that fill down automatically for new rows.
                        - Structured references such as `=SUM(Orders[Amount])`, which read
                          like sentences and grow with the data.
                        - Banded rows that are easier to follow across a wide sheet.

                        ## Sorting safely

                        Always sort the whole table, never a single column: sorting one column
                        on its own scrambles your records, and it is easy not to notice. Inside
                        a table this cannot happen, which is reason enough to use one.

                        ## Filtering

                        Filters hide rows without deleting them. Combine filters across columns
                        ("region is North" and "amount above 500"). Remember that a filtered
                        sheet is easy to forget: check the header icons before you conclude that
                        data is missing.
                    """),
                ),
                LessonSpec(
                    title="Pivot tables in ten minutes",
                    minutes=10,
                    body=_md("""
                        A pivot table summarises a large table by the categories you choose,
                        without a single formula. It answers questions like "total sales per
                        region per month" in seconds.

                        ## Building one

                        1. Click anywhere inside your table and insert a pivot table on a new
                           sheet.
                        2. Drag a category (say `Region`) to **Rows**.
                        3. Drag a date or second category (say `Month`) to **Columns**.
                        4. Drag a number (say `Amount`) to **Values**. It is summed by default;
                           change it to average or count if that is what you need.

                        The result might look like this:

                        | Region | Jan | Feb | Mar | Total |
                        | --- | ---: | ---: | ---: | ---: |
                        | North | 12,400 | 11,950 | 13,200 | 37,550 |
                        | South | 9,800 | 10,300 | 10,050 | 30,150 |
                        | Total | 22,200 | 22,250 | 23,250 | 67,700 |

                        ## Things to remember

                        - A pivot table does not update by itself: refresh it after the source
                          data changes.
                        - Double-click any number to see the rows behind it. This is the best
                          way to check a surprising total.
                        - Keep the source data clean (one table, no blank rows): the pivot table
                          is only as good as what it summarises.
                    """),
                ),
            ],
        ),
    ],
)

GIVING_FEEDBACK = CourseSpec(
    slug="giving-feedback",
    title="Giving and Receiving Feedback",
    summary="For team leads and managers: feedback that is specific, kind and useful, and how to "
    "take it well yourself.",
    description=_md("""
        Feedback is how people get better at their work, yet most of us give too little of it,
        too late, and too vaguely. This course is for anyone who leads people at Acme. Places
        are limited because it includes practice sessions with a coach, so your request to join
        is approved by the learning team.

        You will practise a simple model for feedback, prepare for a difficult conversation,
        and learn to hear criticism without getting defensive.
    """),
    category="communication",
    level=Level.INTERMEDIATE,
    policy=EnrollmentPolicy.APPROVAL,
    modules=[
        ModuleSpec(
            title="Foundations",
            summary="What feedback is for, and a model that keeps it specific.",
            lessons=[
                LessonSpec(
                    title="What good feedback is for",
                    minutes=6,
                    preview=True,
                    body=_md("""
                        Feedback is information about the effect of someone's work, given so
                        they can decide what to do next. It is not a verdict on the person, and
                        it is not only for problems.

                        ## Two kinds, both needed

                        - **Reinforcing feedback** tells someone what worked, specifically
                          enough that they can do it again on purpose. "Good job" does not do
                          that; "opening with the customer's numbers made them trust the rest"
                          does.
                        - **Redirecting feedback** tells someone what did not work and invites
                          a change.

                        People who only ever hear redirecting feedback start hiding mistakes.
                        People who only hear praise stop trusting it. Aim for far more
                        reinforcing than redirecting feedback, and make both specific.

                        ## Timing

                        Feedback loses value quickly. A week later, the details are gone and
                        the conversation turns into an argument about what happened. Give it
                        within a day or two, in private if it is redirecting, and in a moment
                        when the other person can actually listen.

                        > Feedback is a gift only if the person can use it. Make it specific,
                        > timely and about something they can change.
                    """),
                ),
                LessonSpec(
                    title="The situation-behaviour-impact model",
                    minutes=9,
                    body=_md("""
                        The situation-behaviour-impact model gives feedback a simple structure
                        that keeps it factual and hard to misread.

                        ## The three parts

                        | Part | Ask yourself | Example |
                        | --- | --- | --- |
                        | Situation | When and where? | "In Tuesday's planning meeting..." |
                        | Behaviour | What did they do or say? | "...you cut Priya off twice..." |
                        | Impact | What was the effect? | "...and she stopped contributing." |

                        Then stop, and ask: *"How did you see it?"* The question turns a
                        statement into a conversation, and you may learn something you did not
                        know.

                        ## Behaviour, not character

                        Describe what a camera would have recorded. "You were rude" is a
                        judgement the other person will dispute. "You answered your phone while
                        the customer was explaining the problem" is a fact they can recognise
                        and change.

                        ## It works for praise too

                        "In yesterday's demo (situation) you walked through the failure case
                        first (behaviour), and the client stopped worrying about risk and
                        started asking about dates (impact)." Specific praise tells people
                        exactly what to repeat.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Having the conversation",
            summary="Preparing for the hard ones, and being on the receiving end.",
            lessons=[
                LessonSpec(
                    title="Preparing for a difficult conversation",
                    minutes=10,
                    body=_md("""
                        Some feedback conversations are hard: a repeated problem, a sensitive
                        topic, or a person you expect to react badly. Ten minutes of
                        preparation changes how they go.

                        ## Before the conversation

                        1. **Write down the facts** using situation, behaviour and impact. If
                           you cannot name a specific behaviour, you are not ready yet.
                        2. **Decide what you want** to be different afterwards. One clear
                           request works better than a list of grievances.
                        3. **Check your assumptions**. You know what happened; you do not know
                           why. Plan to ask.
                        4. **Choose the time and place**: private, unhurried, not at the end of
                           a Friday.

                        ## During the conversation

                        - Say why you are there in the first sentence; do not bury the point
                          under small talk.
                        - Describe the facts, then ask for their view, and listen to it fully.
                        - Agree a concrete next step, and when you will check in.

                        ## If it goes badly

                        If emotions run high, it is fine to pause: "Let's take a break and
                        pick this up tomorrow." Follow up in writing with what you agreed, so
                        there is no doubt afterwards.
                    """),
                ),
                LessonSpec(
                    title="Receiving feedback well",
                    minutes=7,
                    body=_md("""
                        Managers who receive feedback well get more of it, and so learn what
                        is really happening in their team. It is a skill, and it can be
                        practised.

                        ## In the moment

                        - **Listen to the end** before responding. Your first reaction is
                          usually to explain; hold it.
                        - **Ask for an example** if the feedback is vague: "Can you tell me
                          about a time that happened?"
                        - **Thank the person**. It took effort, and often courage, to tell you.

                        You do not have to agree on the spot. "Let me think about that" is a
                        complete and honest answer.

                        ## Afterwards

                        Sort what you heard into three piles: things you agree with, things you
                        are unsure about, and things you disagree with. Act on the first pile,
                        ask a second person about the middle one, and let the last one go
                        without resentment.

                        ## Asking for it

                        Do not wait for feedback to arrive. Ask a specific question after a
                        meeting or a project: "What is one thing I could have done to make
                        that meeting more useful for you?" Specific questions get specific
                        answers.
                    """),
                ),
            ],
        ),
    ],
)

ACME = Catalog(
    categories=[
        CategorySpec("operations", "Operations"),
        CategorySpec("health-and-safety", "Health and safety", parent="operations"),
        CategorySpec("professional-skills", "Professional skills"),
        CategorySpec("office-tools", "Office tools", parent="professional-skills"),
        CategorySpec("communication", "Communication", parent="professional-skills"),
    ],
    courses=[WORKPLACE_SAFETY, SPREADSHEET_SKILLS, GIVING_FEEDBACK],
    journey=LearnerJourney(
        course="workplace-safety-essentials",
        completed=["Welcome: how this course works", "Hazards, risks and controls"],
        video="Watch: a hazard walk, step by step",
        video_position=4,
    ),
)


# --- globex: Globex Learning (a software company: engineers, support, compliance) ----------

GLOBEX_PRIVACY_REFERENCE = DocumentSpec(
    name="globex-privacy-reference",
    title="Data privacy quick reference",
    subtitle="Globex Learning \u00b7 Data Privacy Basics \u00b7 keep it next to your keyboard",
    body="""
        This two-page reference sums up the rules from the Data Privacy Basics course. It does
        not replace the company's privacy policy; when the two differ, the policy wins, and
        the privacy team would like to hear about it.

        ## Personal data, in one sentence
        Personal data is any information about a person who can be identified from it, on its
        own or combined with other information we hold. Names, e-mail addresses, customer ids,
        IP addresses, support transcripts, and photos all count.

        ## Special categories need extra care
        - Health, including sick notes and accessibility needs.
        - Racial or ethnic origin, religion, political opinions, trade union membership.
        - Sexual orientation, genetic and biometric data.
        - Criminal records.

        Never store any of these in tickets, chats or spreadsheets.

        ## Before you collect or use personal data
        - Do we need it for a purpose the person would expect? If not, do not collect it.
        - Is this the minimum? Ask for a birth year instead of a birth date, a city instead
          of an address, whenever that is enough.
        - Where will it live, who can see it, and when will it be deleted?
        - Is the tool approved? Personal data goes only into systems on the approved list.

        ## Everyday do and do not
        - Do share customer records by link to the approved system, never as attachments.
        - Do lock your screen whenever you step away, even for a minute.
        - Do use test data or anonymised exports when debugging or demonstrating.
        - Do not paste customer data into personal notes, chat tools or AI assistants that are
          not on the approved list.
        - Do not forward work e-mail containing personal data to a private account.
        - Do not keep exports after the task is done: delete the file and empty the bin.

        ## Requests from people about their data
        A customer or colleague may ask to see, correct, export or delete their data. Any
        message that sounds like such a request counts, whatever words it uses. Forward it to
        the privacy team the same day; the legal deadline is short and starts when we receive
        it, not when it reaches the right person.

        ## If something goes wrong
        A breach is any loss, leak or unauthorised access to personal data: a misdirected
        e-mail, a lost laptop, a shared link that was public, an export left on a shared drive.
        Report it to the privacy team within the hour, even if you are not sure it counts.
        Do not try to investigate or fix it alone, and do not delete evidence. We may have as
        little as 72 hours to tell the regulator, so every hour matters.

        ## Who to ask
        The privacy team answers questions in the privacy channel and at the privacy mailbox.
        No question is too small: asking first is always cheaper than fixing afterwards.
    """,
)

ENGINEERING_ONBOARDING = CourseSpec(
    slug="onboarding-for-engineers",
    title="Onboarding for Engineers",
    summary="Your first weeks in Globex engineering: the tools, how we review and ship code, and "
    "what on-call really involves.",
    description=_md("""
        Welcome to engineering at Globex. This course is the companion to your first two weeks:
        it explains how we work, so that your buddy can spend their time on the interesting
        questions instead of the setup ones.

        Access is approved by the engineering onboarding team once your start date is
        confirmed, because the course links to internal systems you will only have from then
        on.

        - Set up a working development environment on day one.
        - Learn our branch, review and release workflow.
        - Understand what is expected of you before your first on-call shift.
    """),
    category="onboarding",
    level=Level.BEGINNER,
    policy=EnrollmentPolicy.APPROVAL,
    modules=[
        ModuleSpec(
            title="Your first week",
            summary="Who is who, your laptop, and version control the Globex way.",
            lessons=[
                LessonSpec(
                    title="Welcome to engineering at Globex",
                    minutes=5,
                    preview=True,
                    body=_md("""
                        You have joined a team of around sixty engineers in eight product teams
                        and one platform team. Each product team owns a part of the product end
                        to end: its code, its tests, its deployments and its on-call rota.

                        ## Your first week at a glance

                        | Day | What happens |
                        | --- | --- |
                        | Monday | Laptop, accounts, meet your buddy and your team |
                        | Tuesday | Development environment running; first build |
                        | Wednesday | Pair with your buddy on a small fix |
                        | Thursday | Your first pull request, reviewed and merged |
                        | Friday | Demo at the team's weekly review; questions for your lead |

                        ## Your buddy

                        Every new engineer gets a buddy from their own team for the first month.
                        Ask them anything, however small: where the coffee is, why a test is
                        flaky, who owns a service. Answering those questions is their job this
                        month, and they were new once too.

                        ## How we like to work

                        - **Write things down.** Decisions live in design documents and pull
                          requests, not in private messages.
                        - **Small changes, often.** A pull request that takes ten minutes to
                          review gets a better review than one that takes two hours.
                        - **Blameless by default.** When something breaks, we ask what in the
                          system allowed it, not who to blame.
                    """),
                ),
                LessonSpec(
                    title="Setting up your development environment",
                    minutes=12,
                    body=_md("""
                        The goal for day two is a development environment that builds the
                        product and runs its tests. Most people get there before lunch.

                        ## Steps

                        1. Sign in to the company password manager and the code host with your
                           new account, and turn on two-factor authentication for both.
                        2. Add an SSH key to your code host account; use a passphrase.
                        3. Clone the repository of your team's main service.
                        4. Follow its README from the top. It lists the one command that
                           installs dependencies and starts the local database and cache.
                        5. Run the test suite. It should pass on a fresh clone; if it does not,
                           that is a bug, and reporting it is a great first contribution.

                        ## When you get stuck

                        - Search the engineering help channel first: most setup problems have
                          been hit before.
                        - Still stuck after twenty minutes? Ask, and paste the exact command and
                          the full error message.
                        - When the fix is found, update the README so the next person does not
                          get stuck in the same place.

                        > If the README was wrong, fixing it is part of your onboarding, not a
                        > distraction from it.
                    """),
                ),
                LessonSpec(
                    title="How we use version control",
                    minutes=9,
                    body=_md("""
                        We use short-lived branches off `main`, merged through pull requests.
                        `main` is always releasable.

                        ## The workflow

                        1. Update `main`, then create a branch named after the change, for
                           example `fix-invoice-rounding`.
                        2. Commit in small steps. Each commit message says in the imperative
                           what the commit does: "Round invoice totals to the currency's
                           precision".
                        3. Push and open a pull request early, marked as draft if it is not
                           ready, so others can see the direction.
                        4. When the checks pass and a reviewer approves, squash and merge.
                        5. Delete the branch.

                        ## What a good pull request contains

                        - A title that would make sense in the release notes.
                        - A description: what changes, why, and how you tested it.
                        - Screenshots for anything visible to users.
                        - Tests for the behaviour you changed.

                        ## Things we avoid

                        - Long-running branches that drift from `main` for weeks.
                        - Force-pushing to a branch someone else is reviewing.
                        - Committing secrets. If it happens, tell the platform team at once: the
                          secret has to be rotated, deleting the commit is not enough.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="How we build",
            summary="Code review, testing, and getting a change to production.",
            lessons=[
                LessonSpec(
                    title="Code review: giving and getting good reviews",
                    minutes=10,
                    body=_md("""
                        Code review exists to share knowledge and to catch problems while they
                        are still cheap. It is a conversation between colleagues, not an exam.

                        ## As an author

                        - Keep pull requests small: a few hundred lines at most.
                        - Review your own diff first; you will catch the obvious things.
                        - Explain the *why* in the description. The diff already shows the
                          what.

                        ## As a reviewer

                        - Respond within one working day, even if only to say when you will
                          review properly.
                        - Start with the big picture: is this the right change at all? Then the
                          design, then the details.
                        - Label your comments so the author knows what is blocking:

                        | Prefix | Meaning |
                        | --- | --- |
                        | *blocking:* | Must change before merging |
                        | *suggestion:* | Worth considering; author decides |
                        | *question:* | I want to understand, not necessarily change |
                        | *nit:* | Tiny, optional, never blocking |

                        ## Tone

                        Comment on the code, never the person, and ask rather than command:
                        "What happens here if the list is empty?" invites a fix and an
                        explanation. Say so when something is well done, too.
                    """),
                ),
                LessonSpec(
                    title="Testing expectations",
                    minutes=8,
                    body=_md("""
                        Every change that alters behaviour comes with a test that would have
                        failed before the change. That is the one rule; the rest is judgement.

                        ## What we test, and how

                        - **Unit tests** for logic with many cases: pricing rules, date
                          handling, parsers.
                        - **Integration tests** against a real database, cache and object store
                          for anything that reads or writes data. We do not mock our own
                          infrastructure: the local services are fast enough to use for real.
                        - **Browser tests** for the few journeys that must never break, such as
                          signing in and paying.

                        ## A good test

                        - Its name states the behaviour: "an expired coupon is refused".
                        - It fails for one reason, and the failure message says what went wrong.
                        - It does not depend on other tests or on the order they run in.

                        > A test that cannot fail is worse than no test: it gives confidence it
                        > has not earned.

                        ## Flaky tests

                        A test that fails sometimes is a bug. Do not simply re-run the build
                        until it passes: open an issue, and fix or quarantine the test the same
                        week.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Shipping and on-call",
            summary="From merge to production, and your first on-call shift.",
            lessons=[
                LessonSpec(
                    title="From merge to production",
                    minutes=7,
                    body=_md("""
                        A merged pull request reaches production within the hour, with no
                        manual steps. Knowing the stages helps you follow your change and spot
                        problems early.

                        ## The pipeline

                        1. **Build and test** on `main`: the same checks as on your pull
                           request, plus slower suites.
                        2. **Staging**: the build is deployed to a copy of production with test
                           data; smoke tests run against it.
                        3. **Canary**: a small share of production traffic goes to the new
                           version while error rates and latency are compared with the old one.
                        4. **Full rollout**, once the canary stays healthy for fifteen minutes.

                        A failing stage stops the pipeline and notifies the author.

                        ## Feature flags

                        Larger features are merged behind a flag and switched on separately,
                        first for staff, then for some customers, then for everyone. Deploying
                        code and releasing a feature are two different decisions.

                        ## After your change is live

                        Watch your team's dashboard for the next half hour. If something looks
                        wrong, roll back first and investigate second: rolling back is always
                        safe and takes two minutes.
                    """),
                ),
                LessonSpec(
                    title="Your first on-call shift",
                    minutes=9,
                    body=_md("""
                        Every product team runs an on-call rota for its services. You join it
                        after about two months, and your first two shifts are shadow shifts
                        alongside an experienced engineer.

                        ## What on-call means

                        - You carry the pager for one week, during working hours and outside
                          them.
                        - You acknowledge a page within fifteen minutes.
                        - You are not expected to fix everything alone: you are expected to
                          assess, mitigate, and call for help when you need it.

                        ## When you are paged

                        1. Acknowledge the page so others know someone is on it.
                        2. Check the dashboard linked in the alert: is it real, and how many
                           customers are affected?
                        3. Open an incident channel if customers are affected, and post what
                           you see every thirty minutes.
                        4. Mitigate first: roll back, switch off a flag, or scale up.
                        5. Escalate early. Waking someone up is better than a long outage.

                        ## Afterwards

                        Every customer-facing incident gets a short, blameless review within a
                        week: what happened, how we found out, what we will change so it does
                        not happen again. Shifts with a night-time page earn time off in lieu.
                    """),
                ),
            ],
        ),
    ],
)

CUSTOMER_SUPPORT = CourseSpec(
    slug="customer-support-essentials",
    title="Customer Support Essentials",
    summary="Listen well, reply clearly, prioritise sensibly and escalate without dropping the ball.",
    description=_md("""
        Support is where customers decide whether they trust us. This course covers what
        every member of the support team, and anyone who helps out at busy times, needs to
        know: how to listen, how to write a reply that solves the problem the first time, how
        to prioritise a busy queue, and when and how to escalate.

        It takes a little over an hour, and every lesson ends with something you can use on
        your next ticket.
    """),
    category="support",
    level=Level.BEGINNER,
    modules=[
        ModuleSpec(
            title="The support mindset",
            summary="What good support feels like from the customer's side.",
            lessons=[
                LessonSpec(
                    title="What great support feels like",
                    minutes=6,
                    preview=True,
                    body=_md("""
                        Think of the last time a company helped you well. Chances are they did
                        three things: they understood your problem quickly, they told you
                        clearly what would happen next, and they did what they said.

                        ## Three promises

                        1. **We understand.** The customer never has to explain the same thing
                           twice.
                        2. **We are clear.** Every reply says what we did, what happens next,
                           and when.
                        3. **We follow through.** If we say we will get back by Thursday, we do,
                           even if only to say we need more time.

                        ## What customers remember

                        Customers rarely remember how long a fix took. They remember whether
                        they felt heard and whether they were kept informed. A slow fix with
                        good updates often earns more trust than a fast one with silence.

                        > Customers do not expect us to be perfect. They expect us to be honest
                        > and to keep them in the loop.

                        ## How we measure it

                        We track first-reply time, resolution time and customer satisfaction,
                        but none of them is a goal on its own. A quick reply that does not help
                        is worse than a slightly slower one that does.
                    """),
                ),
                LessonSpec(
                    title="Listening and acknowledging",
                    minutes=8,
                    body=_md("""
                        Most support mistakes start with answering the wrong question. Before
                        you reply, make sure you know what the customer is actually trying to
                        do.

                        ## Read the whole message

                        - Read it twice: once for the facts, once for how the customer feels.
                        - Look at the account: plan, recent tickets, recent changes.
                        - Find the **goal** behind the question. "How do I export my data?"
                          may really mean "I am thinking of leaving", or "my accountant needs a
                          report".

                        ## Acknowledge before you solve

                        Start your reply by showing you understood, in one sentence, in your
                        own words: "You are trying to send invoices in euros, but the total
                        still shows in dollars." It shows you listened, and if you
                        misunderstood, the customer can correct you before you both waste time.

                        ## Acknowledge feelings, briefly

                        If the customer is frustrated, say so plainly and once: "I can see this
                        has held up your month-end, and I am sorry it has." Then move straight
                        to what you are doing about it. Repeated apologies without action make
                        things worse.
                    """),
                ),
                LessonSpec(
                    title="Watch: anatomy of a good support call",
                    minutes=1,
                    kind=LessonKind.VIDEO,
                    body=_md("""
                        The clip above stands in for a recorded, annotated support call (in
                        this demo it is a generated test pattern, with a bar that shows how far
                        you have watched). A good call has the same shape every time:

                        1. **Greet and identify**: your name, the customer's name, the account.
                        2. **Listen** to the whole problem without interrupting.
                        3. **Summarise** it back in one sentence and get a "yes, exactly".
                        4. **Solve or set expectations**: fix it now, or say what happens next
                           and when.
                        5. **Confirm** that nothing else is open, and write the ticket note
                           while the call is fresh.

                        Stop the video at any time: next time you open this lesson it starts
                        where you left off.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Handling tickets",
            summary="Clear replies, a sensible queue, and upset customers.",
            lessons=[
                LessonSpec(
                    title="Writing clear replies",
                    minutes=9,
                    body=_md("""
                        A clear reply solves the problem in one round trip. An unclear one
                        starts a thread of follow-up questions, and every extra round trip
                        costs the customer a day.

                        ## Structure

                        1. **Acknowledge** the problem in one sentence.
                        2. **Answer** it: the fix, the steps, or what we found.
                        3. **Next step**: what the customer should do, or what we will do and
                           when.

                        ## Style

                        - Short paragraphs and numbered steps for anything the customer must
                          follow.
                        - The customer's words, not our internal names for things.
                        - One question per message if you need information, and say why you
                          need it.
                        - A link to the help article when there is one, but never a link
                          instead of an answer.

                        ## Before you send

                        Read the reply as the customer would, on a phone, in a hurry. Does it
                        answer what they asked? Is it obvious what happens next? Would you be
                        happy to receive it?
                    """),
                ),
                LessonSpec(
                    title="Triage and priorities",
                    minutes=8,
                    body=_md("""
                        On a busy day, the order in which you handle tickets matters as much as
                        how you handle them. We sort by impact, not by who shouts loudest.

                        ## Priority levels

                        | Priority | Meaning | First reply within |
                        | --- | --- | --- |
                        | Urgent | Service down or data at risk for a customer | 1 hour |
                        | High | A core feature broken, no workaround | 4 hours |
                        | Normal | A problem with a workaround, or a how-to question | 1 working day |
                        | Low | Feedback, feature requests | 3 working days |

                        ## Triage in practice

                        - Scan new tickets first, before working on any of them, and set the
                          priority of each.
                        - Several customers reporting the same thing is a possible incident:
                          tell the team lead at once rather than answering each in turn.
                        - Re-prioritise when you learn more. A "how-to question" that turns out
                          to be a bug moves up.

                        ## Tags and notes

                        Tag each ticket with the product area and the cause once you know it.
                        Tags are how we find patterns and show product teams which problems
                        cost customers the most time.
                    """),
                ),
                LessonSpec(
                    title="Handling an upset customer",
                    minutes=8,
                    body=_md("""
                        Angry customers are usually customers who care: the product matters to
                        them, and it let them down. Staying calm and useful is a skill you can
                        learn.

                        ## What helps

                        - **Let them finish.** Interrupting an upset person makes them repeat
                          themselves, louder.
                        - **Name the problem and the impact**: "Your team could not sign in all
                          morning, and you had a deadline today."
                        - **Say what you will do**, specifically, and when you will be back in
                          touch.
                        - **Keep to facts** about what happened; do not speculate and do not
                          blame another team.

                        ## What does not help

                        - Policy quoted as a reason ("that is our policy").
                        - Over-promising to calm things down; it makes the next conversation
                          harder.
                        - Taking it personally. The customer is angry at the situation.

                        ## Your limits

                        Abuse is different from anger. If a customer is abusive, you may end
                        the conversation politely and hand the ticket to your team lead. You
                        will always be backed up for doing so.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Knowledge and escalation",
            summary="Escalating well, and turning answers into articles.",
            lessons=[
                LessonSpec(
                    title="Escalating without dropping the ball",
                    minutes=7,
                    body=_md("""
                        Some problems need an engineer, a billing specialist or a manager.
                        Escalating is not a failure; a poor handover is.

                        ## When to escalate

                        - It is a bug you can reproduce, or that several customers report.
                        - It needs access or authority you do not have: refunds above your
                          limit, contract changes, data corrections.
                        - You have spent thirty minutes without progress.

                        ## A good handover contains

                        - What the customer is trying to do and what happens instead.
                        - Steps to reproduce, account details, timestamps, screenshots.
                        - What you have already tried, and what you told the customer.
                        - How urgent it is, and why.

                        ## You still own the customer

                        After escalating, you remain the customer's contact. Tell them it has
                        been passed to a specialist, when they will hear next, and then make
                        sure they do, even if the update is "no news yet".
                    """),
                ),
                LessonSpec(
                    title="Turning answers into help articles",
                    minutes=6,
                    body=_md("""
                        If you answer the same question three times, it deserves a help
                        article. Good articles let customers help themselves at three in the
                        morning, and free you for the problems that need a person.

                        ## A useful article

                        - A title phrased the way customers ask: "Change the currency of an
                          invoice", not "Currency settings".
                        - A one-line summary of the answer at the top.
                        - Numbered steps, one action each, with the names of buttons exactly
                          as they appear on screen.
                        - A short "if this did not work" section with the common pitfalls.

                        ## Keep them true

                        An outdated article is worse than none. When you notice one, fix it or
                        flag it in the knowledge channel the same day, and link the article
                        from the ticket that revealed the problem.
                    """),
                ),
            ],
        ),
    ],
)

DATA_PRIVACY = CourseSpec(
    slug="data-privacy-basics",
    title="Data Privacy Basics",
    summary="What personal data is, how to handle it safely every day, and what to do the moment "
    "something goes wrong.",
    description=_md("""
        Everyone at Globex handles personal data: customer accounts, support transcripts,
        colleagues' details. This short course explains the principles of data protection in
        plain language and turns them into everyday habits.

        Finish it in your first two weeks; it is required for access to customer data.
    """),
    category="privacy",
    level=Level.BEGINNER,
    modules=[
        ModuleSpec(
            title="Personal data",
            summary="What counts, and the principles behind the rules.",
            lessons=[
                LessonSpec(
                    title="What counts as personal data",
                    minutes=7,
                    preview=True,
                    body=_md("""
                        **Personal data** is any information relating to a person who can be
                        identified, directly or indirectly. The definition is deliberately
                        broad.

                        ## Obvious and less obvious examples

                        | Clearly personal | Also personal |
                        | --- | --- |
                        | Name, e-mail, phone number | Customer id or account number |
                        | Home address | IP address, device identifiers |
                        | Photo of a face | A support transcript describing a problem |
                        | Date of birth | "The only left-handed engineer in Lisbon" |

                        The last example matters: data with no name in it can still be personal
                        if it points to one person when combined with other information.

                        ## Special categories

                        Some data can cause serious harm if misused, and the law protects it
                        more strongly: health, ethnic origin, religion, political opinions,
                        trade union membership, sexual orientation, and genetic or biometric
                        data. We avoid collecting it at all unless there is a clear legal
                        basis, and it never belongs in tickets, chats or spreadsheets.

                        ## Anonymous data

                        Data that truly cannot be linked back to a person is not personal data.
                        But real anonymisation is hard: removing names is rarely enough. Treat
                        "anonymised" exports as personal data unless the privacy team has
                        confirmed otherwise.
                    """),
                ),
                LessonSpec(
                    title="Principles of data protection",
                    minutes=8,
                    body=_md("""
                        Data protection law rests on a handful of principles. If you remember
                        these, you can work out the right answer in most situations.

                        ## The principles

                        1. **Lawful, fair and transparent**: people know what we do with their
                           data, and we have a valid reason to do it.
                        2. **Purpose limitation**: data collected for one purpose is not quietly
                           reused for another.
                        3. **Data minimisation**: collect only what the purpose needs.
                        4. **Accuracy**: keep data correct, and fix it when told it is wrong.
                        5. **Storage limitation**: delete data when it is no longer needed.
                        6. **Security**: protect data against loss, leaks and misuse.
                        7. **Accountability**: be able to show that we follow all of the above.

                        ## In practice

                        > When in doubt, ask: would the person be surprised to learn we are
                        > doing this with their data? If yes, stop and ask the privacy team.

                        Most privacy problems are not malicious. They come from convenience: an
                        export kept "in case", a spreadsheet shared a little too widely, a
                        field added to a form because it might be useful one day.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="Privacy in your daily work",
            summary="Safe habits, and the quick reference to keep at hand.",
            lessons=[
                LessonSpec(
                    title="Handling customer data safely",
                    minutes=9,
                    body=_md("""
                        Good privacy is mostly a set of small, boring habits. Here are the ones
                        that prevent most incidents.

                        ## Access

                        - Open customer records only when your task needs it. Curiosity is not
                          a reason, and every access is logged.
                        - Use the approved systems; do not copy data into personal tools.

                        ## Sharing

                        - Share a link to the record in the approved system, not an export or
                          a screenshot.
                        - Check the recipients before sending, especially with auto-complete.
                        - Never put personal data in a public channel, a shared document with
                          a public link, or an unapproved AI assistant.

                        ## Exports and test data

                        - Export only the fields you need, and delete the file when the task is
                          done.
                        - Use generated test data for development and demos. Production data
                          does not belong on a laptop.

                        ## Your devices

                        Lock your screen when you step away, keep the disk encryption and
                        updates on, and report a lost or stolen device immediately, day or
                        night.
                    """),
                ),
                LessonSpec(
                    title="Data privacy quick reference (PDF)",
                    minutes=5,
                    kind=LessonKind.DOCUMENT,
                    document=GLOBEX_PRIVACY_REFERENCE,
                    body=_md("""
                        The two-page reference above sums up this course: what personal data
                        is, what to check before collecting or using it, the everyday do and do
                        not list, and what to do about requests and breaches.

                        Download it and keep it somewhere you will see it. When a situation is
                        not covered, ask the privacy team before you act.
                    """),
                ),
            ],
        ),
        ModuleSpec(
            title="When things go wrong",
            summary="Recognising a data breach and reporting it in time.",
            lessons=[
                LessonSpec(
                    title="Recognising and reporting a data breach",
                    minutes=8,
                    body=_md("""
                        A **personal data breach** is any event that leads to personal data
                        being lost, destroyed, changed, disclosed or accessed without
                        authorisation. It does not need a hacker: most breaches are ordinary
                        mistakes.

                        ## Examples

                        - An e-mail with a customer list sent to the wrong address.
                        - A laptop or phone lost on a train.
                        - A shared folder that turned out to be public.
                        - A colleague who looked up a customer out of curiosity.
                        - A database backup copied somewhere it should not be.

                        ## What to do

                        1. **Report it within the hour** to the privacy team, even if you are
                           not sure it counts. They decide; you report.
                        2. **Contain it if you can do so safely**: ask the recipient to delete
                           the e-mail, revoke the public link.
                        3. **Do not delete evidence** or investigate further on your own.
                        4. **Write down what you know**: what data, how many people, when, and
                           how you found out.

                        ## Why speed matters

                        We may have as little as 72 hours to notify the regulator, and must tell
                        the people affected without undue delay when the risk to them is high.
                        A breach reported late is a second breach.

                        > Nobody is disciplined for reporting a mistake. Hiding one is a
                        > different matter.
                    """),
                ),
            ],
        ),
    ],
)

GLOBEX = Catalog(
    categories=[
        CategorySpec("people-and-culture", "People and culture"),
        CategorySpec("onboarding", "Onboarding", parent="people-and-culture"),
        CategorySpec("customer-experience", "Customer experience"),
        CategorySpec("support", "Support", parent="customer-experience"),
        CategorySpec("compliance", "Compliance"),
        CategorySpec("privacy", "Privacy and security", parent="compliance"),
    ],
    courses=[ENGINEERING_ONBOARDING, CUSTOMER_SUPPORT, DATA_PRIVACY],
    journey=LearnerJourney(
        course="customer-support-essentials",
        completed=["What great support feels like", "Listening and acknowledging"],
        video="Watch: anatomy of a good support call",
        video_position=4,
    ),
)

CATALOGS: dict[str, Catalog] = {"acme": ACME, "globex": GLOBEX}
