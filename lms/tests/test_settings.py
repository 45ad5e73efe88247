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
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "PYTEST_VERSION"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def _set_by_dotenv() -> set[str]:
    """Variables the developer's .env provides: settings read it, so they are never missing there."""
    dotenv = ROOT / ".env"
    return set(re.findall(r"^([A-Z_]+)=", dotenv.read_text(), re.M)) if dotenv.is_file() else set()


def test_production_refuses_to_start_without_required_values():
    for missing in sorted({"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"} - _set_by_dotenv()):
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = _manage("check", env=env)
        assert result.returncode != 0
        assert f"{missing} must be set when DEBUG=False" in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    import re

    settings_text = (ROOT / "lms" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_text)) | set(
        re.findall(r'_required\("([A-Z_]+)"', settings_text)
    )
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
