"""Settings: the only reader of environment variables (prefix LANTERN_)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.explain.registry import METHODS
from app.imaging.archive import ArchiveLimits
from app.imaging.decode import ImageLimits
from app.runtime.batching import BatchLimits
from app.runtime.jobs import JobLimits
from app.runtime.loader import LoadOptions
from app.runtime.sessions import SessionFactory

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every limit is a setting with a sane default; impossible values are refused at start-up."""

    model_config = SettingsConfigDict(env_prefix="LANTERN_", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    model_store: Path = PROJECT_ROOT / "model_store"
    samples_dir: Path = Field(
        default=PROJECT_ROOT / "static" / "samples",
        description="each model's sample pictures (<dir>/<model>/*.png): the UI's samples and "
        "GradientSHAP's baselines=samples",
    )
    default_model: str = "efficientnet_lite0"
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_receiving_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1024 * 1024,
        description="request body bytes held at once across every request",
    )
    # The server process (python -m app): connections, headers, slow clients (docs/limits.md).
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, le=16 * 1024 * 1024, description="request line + headers"
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="longest a request's headers may take"
    )
    idle_timeout_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="a connection with no request is closed"
    )
    max_connections: int = Field(default=512, ge=8, le=1_000_000)
    max_images_per_request: int = Field(default=64, ge=1, le=4096)
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    max_image_side: int = Field(default=12_000, ge=1)
    max_aspect_ratio: float = Field(default=20.0, ge=1.0)
    max_decode_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=16 * 1024 * 1024,
        description="memory of the images being decoded at once, estimated from their headers",
    )
    decode_queue_size: int = Field(default=16, ge=0, le=1024, description="decodes waiting")

    ort_intra_op_threads: int = Field(default=0, ge=0, description="0: onnxruntime decides")
    ort_allow_spinning: bool = Field(
        default=False, description="let idle onnxruntime threads spin (burns CPU between runs)"
    )
    warmup_runs: int = Field(default=1, ge=0)
    explain_graphs: Literal["background", "eager", "lazy"] = Field(
        default="background",
        description="build and self-check each model's explain graphs right after start-up, "
        "beside the serving (gradient requests meanwhile wait for the check); before the "
        "server is ready (eager: /health/ready then means checked); or with the first "
        "gradient request, which waits for both (lazy). A replica with "
        "LANTERN_ROLE=predictor never builds them",
    )
    cached_sessions: int = Field(
        default=16, ge=1, le=1024, description="derived sessions (explain graphs, taps) per model"
    )

    max_activation_steps: int = Field(default=1024, ge=1, le=100_000)
    max_running_jobs: int = Field(default=2, ge=1, le=64)
    max_queued_jobs: int = Field(default=8, ge=0, le=10_000)
    job_ttl_seconds: float = Field(default=600.0, gt=0)
    max_finished_jobs: int = Field(
        default=256, ge=1, description="finished jobs kept (the oldest go first)"
    )
    max_finished_job_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="bytes of finished jobs' results kept"
    )
    # Jobs shared by replicas (docs/jobs.md): unset, jobs live in this process.
    redis_url: str | None = Field(default=None, description="redis://host:6379/0 (or rediss://)")
    redis_prefix: str = Field(default="lantern:jobs", min_length=1, max_length=100)
    job_lease_seconds: float = Field(
        default=15.0, ge=0.3, le=3600, description="a dead replica's job is re-queued after this"
    )
    job_retries: int = Field(
        default=1, ge=0, le=100, description="re-queues of a job whose replica died, then failed"
    )
    max_forward_passes: int = Field(
        default=4096, ge=1, description="forward runs one explanation request may spend"
    )
    max_explain_elements: int = Field(
        default=1 << 30,
        ge=1,
        description="array elements one explanation may compute around the model (masks, "
        "perturbed inputs, curves)",
    )
    # The evaluation job (docs/evaluation.md): its estimated cost, its images, its archive.
    max_evaluation_passes: int = Field(
        default=250_000, ge=1, description="forward passes one evaluation may spend (estimated)"
    )
    max_evaluation_images: int = Field(default=64, ge=1, le=1024)
    max_evaluation_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="encoded image bytes of one evaluation"
    )
    max_archive_members: int = Field(default=4096, ge=1, description="entries of an archive")

    # Serving: batching, back-pressure, auth, CORS, logs, shutdown (see README "Serving").
    max_batch: int = Field(default=32, ge=1, le=4096, description="images per onnxruntime run")
    max_batch_delay_ms: float = Field(default=2.0, ge=0, le=1000)
    max_batch_ms: float = Field(
        default=10.0,
        gt=0,
        le=60_000,
        description="a batch stops growing at about this much work (the model's time per image)",
    )
    queue_size: int = Field(default=64, ge=1, description="requests admitted per model")
    inline_run_ms: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="a batch the model runs in at most this long (its measured time per "
        "image) runs on the event loop, not in a worker thread; 0: always in a thread",
    )
    inline_decode_pixels: int = Field(
        default=128 * 128,
        ge=0,
        le=1024 * 1024,
        description="an upload whose images' headers give at most this many pixels in all is "
        "decoded and preprocessed on the event loop, not in a worker thread; 0: never",
    )
    explain_concurrency: int = Field(default=1, ge=1, le=64)
    explain_queue_size: int = Field(default=4, ge=0, description="explanations waiting")
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    upload_timeout_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="longest wait for the next part of a body"
    )
    retry_after_seconds: int = Field(default=1, ge=1, le=3600)
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: text on a terminal, else JSON
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    # What this replica serves (docs/kserve.md): all, or a KServe predictor or explainer.
    role: Literal["all", "predictor", "explainer"] = "all"
    default_explain_method: str = Field(
        default="grad_cam", description="the method of a KServe :explain that names none"
    )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_are_long_enough(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(key) < 16 or not key.isascii() or not key.isprintable() for key in keys):
            raise ValueError("each API key must be at least 16 printable ASCII characters")
        return keys

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        return url

    @field_validator("default_explain_method")
    @classmethod
    def _known_method(cls, key: str) -> str:
        if key not in METHODS:
            raise ValueError(f"default_explain_method must be one of {', '.join(METHODS)}")
        return key

    @model_validator(mode="after")
    def _store_is_a_folder(self) -> Settings:
        if self.model_store.exists() and not self.model_store.is_dir():
            raise ValueError(f"model_store {self.model_store} is not a folder")
        return self

    @property
    def image_limits(self) -> ImageLimits:
        return ImageLimits(self.max_image_pixels, self.max_image_side, self.max_aspect_ratio)

    @property
    def archive_limits(self) -> ArchiveLimits:
        """What an evaluation's archive (or folder) may hold."""
        return ArchiveLimits(
            max_images=self.max_evaluation_images,
            max_bytes=self.max_evaluation_bytes,
            max_members=self.max_archive_members,
        )

    @property
    def sessions(self) -> SessionFactory:
        """The one factory of onnxruntime sessions, with these thread settings."""
        return SessionFactory(self.ort_intra_op_threads, self.ort_allow_spinning)

    @property
    def load_options(self) -> LoadOptions:
        eager = self.explain_graphs == "eager" and self.role != "predictor"
        return LoadOptions(
            self.sessions, self.warmup_runs, self.cached_sessions, self.samples_dir, eager
        )

    @property
    def job_limits(self) -> JobLimits:
        return JobLimits(
            max_running=self.max_running_jobs,
            max_queued=self.max_queued_jobs,
            ttl=self.job_ttl_seconds,
            lease=self.job_lease_seconds,
            retries=self.job_retries,
            max_finished=self.max_finished_jobs,
            max_finished_bytes=self.max_finished_job_bytes,
        )

    @property
    def batch_limits(self) -> BatchLimits:
        return BatchLimits(
            max_batch=self.max_batch,
            max_delay=self.max_batch_delay_ms / 1000,
            max_batch_seconds=self.max_batch_ms / 1000,
            queue_size=self.queue_size,
            retry_after=self.retry_after_seconds,
            inline_seconds=self.inline_run_ms / 1000,
        )
