# The LMS application image: web (gunicorn), Celery worker and Celery beat all run it.
# See docker-compose.yml for the whole stack.
# Front-end libraries from the npm registry (package.json + lockfile), never committed.
FROM node:20-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin lms

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml or the lock
# changes. Only the runtime dependencies (no dev tools, no SeaweedFS), at the versions pinned
# in requirements/lock.txt (`make lock`), the set the test suite ran with.
COPY pyproject.toml ./
COPY requirements/lock.txt requirements/lock.txt
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements/lock.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
COPY --from=frontend /app/node_modules ./node_modules
# collectstatic only imports the settings; the values below satisfy the DEBUG=False checks
# and are not used at run time.
RUN pip install --no-deps . \
    && DEBUG=False SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost LMS_BASE_DOMAIN=localhost \
       DATABASE_URL=postgres://build@127.0.0.1:5432/build \
       python manage.py collectstatic --noinput

USER lms
EXPOSE 8000

CMD ["gunicorn", "lms.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
