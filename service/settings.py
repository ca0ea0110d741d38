"""Settings from MLTRACKER_* environment variables, overridable by command-line flags."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

DEFAULT_DATA_DIR = "./mltracker-data"


@dataclass(frozen=True)
class S3Options:
    """How the S3 adapter reaches its store, from MLflow's own variables (credentials stay with
    boto3's own lookup)."""

    endpoint_url: str | None = None  # MLFLOW_S3_ENDPOINT_URL, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL
    addressing_style: str = "auto"  # MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE
    verify_tls: bool = True  # MLFLOW_S3_IGNORE_TLS=true turns the check off


@dataclass(frozen=True)
class Settings:
    backend_store_uri: str = f"sqlite:///{DEFAULT_DATA_DIR}/mltracker.db"
    artifacts_destination: str = f"{DEFAULT_DATA_DIR}/artifacts"
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    gitlab_url: str | None = None
    gitlab_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    public_url: str | None = None
    auto_upgrade: bool = True
    # Process queued bot jobs inside the web process (`mltracker serve` does; `mltracker worker` too).
    run_jobs_in_process: bool = True
    # Web UI: Flask session signing key (generated into data_dir when unset) and the GitLab OAuth
    # application ("Sign in with GitLab", authorization code flow with PKCE).
    secret_key: str | None = field(default=None, repr=False)
    data_dir: str = DEFAULT_DATA_DIR
    gitlab_oauth_client_id: str | None = None
    gitlab_oauth_client_secret: str | None = field(default=None, repr=False)
    # Calls to GitLab: seconds before giving up, and retries after a connection error or timeout
    # (a 429 is never waited out inside a request).
    gitlab_timeout: float = 10.0
    gitlab_max_retries: int = 0
    # Authentication decisions cached per process (seconds, at most 60; entries).
    auth_cache_ttl: float = 30.0
    auth_cache_size: int = 10_000
    # GitLab access level of a CI job whose user's role cannot be asked of GitLab (no bot token, or
    # the bot cannot see the project). Reporter (20) reads only; 30 lets such jobs write.
    unverified_job_access_level: int = 20
    # The least GitLab access level that may promote a candidate, from the API, the UI and the bot.
    promote_min_access_level: int = 30
    # Reverse proxies in front of mltracker whose X-Forwarded-For/-Proto/-Host/-Port to believe
    # (0: none; the headers are ignored).
    trusted_proxy_hops: int = 0
    # Database time limits in seconds (0: none): connecting to PostgreSQL, and any one statement
    # (PostgreSQL's statement_timeout; on SQLite, an interrupt from a progress handler).
    db_connect_timeout: float = 10.0
    db_statement_timeout: float = 30.0
    # Local artifact folder: temp files of uploads killed mid-way are removed once older than
    # upload_temp_max_age seconds, at start and every upload_sweep_interval seconds (0: at start only).
    upload_temp_max_age: float = 3600.0
    # Request bodies in bytes, however they are framed (Content-Length or chunked): every request
    # but artifact uploads (JSON, webhooks, forms), and artifact uploads (0: no limit).
    max_request_body: int = 16 * 1024 * 1024
    max_artifact_upload: int = 0
    # Serving (seconds): a request head must arrive within http_header_timeout, a body of up to
    # 256 KiB within http_body_timeout (both read without holding a thread); an idle client of a
    # larger body or a download is dropped after http_idle_timeout. Connections per worker process.
    http_header_timeout: float = 15.0
    http_body_timeout: float = 60.0
    http_idle_timeout: float = 60.0
    http_max_connections: int = 1000
    upload_sweep_interval: float = 600.0
    # Model-version source schemes that name a host and are still accepted (MLflow's own variable,
    # MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES, comma-separated; none by default).
    allowed_host_addressed_schemes: frozenset[str] = frozenset()
    # MLflow registry webhooks: the key their secrets are encrypted with (unset: derived from the
    # secret key), and MLflow's own variables for the URLs they may call and the request timeout.
    webhook_encryption_key: str | None = field(default=None, repr=False)
    webhook_allowed_schemes: tuple[str, ...] = ("https",)
    webhook_allow_private_ips: bool = False
    webhook_timeout: float = 30.0
    # A model-version source must match this regular expression (searched, as MLflow does) when set
    # (MLflow's own variable, MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX).
    model_version_source_regex: str | None = None
    # Where MLflow's UI gateway-proxy route forwards (MLflow's own variable, MLFLOW_DEPLOYMENTS_TARGET).
    deployments_target: str | None = None
    # The stock client's parallel downloads (presigned URLs fetched in byte ranges), advertised in
    # /server-info. None: where the store presigns (S3, as mlflow server does), not for a local
    # folder, where the stock client's ranged path measured slower than one stream
    # (benchmarks/README.md). The links last presigned_download_ttl seconds (MLflow's own
    # variable, MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS).
    multipart_downloads: bool | None = None
    presigned_download_ttl: int = 300
    # None (Settings made in code rather than by settings_from_env): the S3 adapter reads the same
    # variables through s3_options_from_env when it makes its client.
    s3: S3Options | None = None

    @property
    def local_mode(self) -> bool:
        return not self.gitlab_url

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _env(name: str) -> str | None:
    value = os.environ.get(f"MLTRACKER_{name}")
    return value if value not in (None, "") else None


def _flag(name: str) -> bool | None:
    value = _env(name)
    return None if value is None else value.lower() in ("1", "true", "yes", "on")


def _number(name: str, kind: type):
    value = _env(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise SystemExit(f"MLTRACKER_{name} must be a number, not {value!r}") from None


def settings_from_env(**overrides) -> Settings:
    """Build settings from the environment; keyword overrides (CLI flags) win when not None."""
    env = {
        "backend_store_uri": _env("BACKEND_STORE_URI"),
        "artifacts_destination": _env("ARTIFACTS_DESTINATION"),
        "host": _env("HOST"),
        "port": int(_env("PORT")) if _env("PORT") else None,
        "workers": int(_env("WORKERS")) if _env("WORKERS") else None,
        "gitlab_url": _env("GITLAB_URL"),
        "gitlab_token": _env("GITLAB_TOKEN"),
        "webhook_secret": _env("WEBHOOK_SECRET"),
        "public_url": _env("PUBLIC_URL"),
        "secret_key": _env("SECRET_KEY"),
        "data_dir": _env("DATA_DIR"),
        "gitlab_oauth_client_id": _env("GITLAB_OAUTH_CLIENT_ID"),
        "gitlab_oauth_client_secret": _env("GITLAB_OAUTH_CLIENT_SECRET"),
        "run_jobs_in_process": _flag("RUN_JOBS_IN_PROCESS"),
        "gitlab_timeout": _number("GITLAB_TIMEOUT", float),
        "gitlab_max_retries": _number("GITLAB_MAX_RETRIES", int),
        "auth_cache_ttl": _number("AUTH_CACHE_TTL", float),
        "db_connect_timeout": _number("DB_CONNECT_TIMEOUT", float),
        "db_statement_timeout": _number("DB_STATEMENT_TIMEOUT", float),
        "upload_temp_max_age": _number("UPLOAD_TEMP_MAX_AGE", float),
        "max_request_body": _number("MAX_REQUEST_BODY", int),
        "max_artifact_upload": _number("MAX_ARTIFACT_UPLOAD", int),
        "http_header_timeout": _number("HTTP_HEADER_TIMEOUT", float),
        "http_body_timeout": _number("HTTP_BODY_TIMEOUT", float),
        "http_idle_timeout": _number("HTTP_IDLE_TIMEOUT", float),
        "http_max_connections": _number("HTTP_MAX_CONNECTIONS", int),
        "upload_sweep_interval": _number("UPLOAD_SWEEP_INTERVAL", float),
        "auth_cache_size": _number("AUTH_CACHE_SIZE", int),
        "unverified_job_access_level": _number("UNVERIFIED_JOB_ACCESS_LEVEL", int),
        "promote_min_access_level": _number("PROMOTE_MIN_ACCESS_LEVEL", int),
        "trusted_proxy_hops": _number("TRUSTED_PROXY_HOPS", int),
        "allowed_host_addressed_schemes": _scheme_list(os.environ.get("MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES")),
        "webhook_encryption_key": _env("WEBHOOK_ENCRYPTION_KEY"),
        "webhook_allowed_schemes": _webhook_schemes(os.environ.get("MLFLOW_WEBHOOK_ALLOWED_SCHEMES")),
        "webhook_allow_private_ips": _mlflow_flag("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"),
        "webhook_timeout": _mlflow_number("MLFLOW_WEBHOOK_REQUEST_TIMEOUT"),
        "model_version_source_regex": _regex(os.environ.get("MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX")),
        "multipart_downloads": _flag("MULTIPART_DOWNLOADS"),
        "presigned_download_ttl": _presigned_download_ttl(),
        "deployments_target": os.environ.get("MLFLOW_DEPLOYMENTS_TARGET", "").rstrip("/") or None,
        "s3": s3_options_from_env(),
    }
    return Settings().with_overrides(**env).with_overrides(**overrides)


def s3_options_from_env() -> S3Options:
    endpoint = next((os.environ[name] for name in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
                     if os.environ.get(name)), None)
    return S3Options(
        endpoint_url=endpoint,
        addressing_style=os.environ.get("MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE") or "auto",
        verify_tls=os.environ.get("MLFLOW_S3_IGNORE_TLS", "").lower() not in ("true", "1"),
    )


def _scheme_list(value: str | None) -> frozenset[str] | None:
    schemes = frozenset(s.strip().lower() for s in (value or "").split(",") if s.strip())
    return schemes or None


def _webhook_schemes(value: str | None) -> tuple[str, ...] | None:
    schemes = tuple(s.strip() for s in (value or "").split(",") if s.strip())
    return schemes or None


def _mlflow_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    return None if value in (None, "") else value.strip().lower() in ("1", "true")


def _mlflow_number(name: str) -> float | None:
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {value!r}") from None


def _presigned_download_ttl() -> int | None:
    seconds = _mlflow_number("MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS")
    if seconds is None:
        return None
    if not 1 <= seconds <= 7 * 24 * 3600:  # S3 refuses presigned URLs valid for longer than a week
        raise SystemExit("MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS must be between 1 and 604800")
    return int(seconds)


def _regex(value: str | None) -> str | None:
    if not value:
        return None
    try:
        re.compile(value)
    except re.error as exc:
        raise SystemExit(f"MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX is not a regular expression: {exc}") from None
    return value
