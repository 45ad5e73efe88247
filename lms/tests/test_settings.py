import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "x9$Kq2!vLr7@pWz4#Nt8^Hs1&Jm6*Bc3(Fd5)Gy0_Ue+Ai-Ox=Qe[Rb]Tl{Zn}Wk",
    "ALLOWED_HOSTS": ".lms.example.com,lms.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/lms",
    "LMS_BASE_DOMAIN": "lms.example.com",
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (Playwright runs an event loop in-process);
    # a deployment never sets it, and check --deploy rightly refuses it.
    skip = {"PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in skip}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "LMS_NO_DOTENV": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_required_values():
    for missing in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "LMS_BASE_DOMAIN"):
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = _manage("check", env=env)
        assert result.returncode != 0
        assert f"{missing} must be set when DEBUG=False" in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    settings_text = (ROOT / "lms" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_text)) | set(
        re.findall(r'_required\("([A-Z_]+)"', settings_text)
    )
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


def test_production_refuses_a_base_domain_that_is_not_a_bare_host_name():
    for wrong in ("https://lms.example.com", "lms.example.com:8000", ".lms.example.com", "lms.example.com/x"):
        result = _manage("check", env={**PRODUCTION, "LMS_BASE_DOMAIN": wrong})
        assert result.returncode != 0
        assert "LMS_BASE_DOMAIN must be a bare host name such as lms.example.com" in result.stderr
        assert repr(wrong) in result.stderr


def test_production_refuses_a_trusted_proxy_that_is_not_an_address_or_network():
    result = _manage("check", env={**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.internal' is neither an IP address nor a network" in result.stderr


def test_check_deploy_is_clean_behind_trusted_proxies():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


SETTINGS_DUMP = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: repr(getattr(settings, k)) for k in dir(settings) if k.isupper()}))"
)


def _settings_with(values: dict) -> dict:
    """The settings a test run sees (PYTEST_VERSION set) with `values` as its .env."""
    import json

    example_keys = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    clean = {k: v for k, v in os.environ.items() if k not in example_keys}
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_DUMP],
        cwd=ROOT,
        env={**clean, "LMS_NO_DOTENV": "1", "PYTEST_VERSION": "9", **values},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_copy_of_env_example_as_env_changes_no_setting():
    """Sign-in keeps its key, the S3 keys of services.env stay, tests keep their Redis database."""
    copied = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Z_]+)=(.*)$", line)
        if match:
            copied[match.group(1)] = match.group(2).strip().strip("'\"")
    without = _settings_with({})
    with_copy = _settings_with(copied)
    assert with_copy == without
    assert with_copy["SECRET_KEY"] not in ("''", "None")


def test_env_example_sets_nothing_until_a_line_is_uncommented():
    active = [
        line for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^\s*[A-Z_]+=", line)
    ]
    assert active == [], "write new settings in .env.example as '# NAME=default'"


def test_every_folder_with_tests_is_collected_by_make_test():
    """`make test` collects pytest's testpaths only: a new app's tests outside them never run."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pytest_options = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    skipped = {".venv", "node_modules", ".data", ".git", "staticfiles"}
    with_tests = {
        folder.name
        for folder in root.iterdir()
        if folder.is_dir() and folder.name not in skipped and next(folder.rglob("test_*.py"), None)
    }
    missing = with_tests - set(pytest_options["testpaths"])
    assert not missing, f"tests outside pyproject's testpaths: {sorted(missing)}"
