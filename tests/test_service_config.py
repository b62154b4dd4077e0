from imgdenoise.cli import build_parser
from imgdenoise.service_config import ServiceConfig


def test_the_environment_carries_a_configuration_to_worker_processes_unchanged():
    config = ServiceConfig(models=["unet", "dncnn"], max_upload_bytes=1000, max_pixels=5, max_work=2.5, threads=3,
                           queue=0, queue_timeout=1.5, runtime="xla", cors_origins=["https://a.example"],
                           warm_up=False, max_seconds=9.0)
    assert ServiceConfig.from_env(config.to_env()) == config
    assert ServiceConfig.from_env({}) == ServiceConfig()
    assert ServiceConfig.from_env({"IMGDENOISE_CORS_ORIGINS": ""}).cors_origins == []


def test_serve_options_default_to_the_service_defaults():
    args = build_parser().parse_args(["serve"])
    defaults = ServiceConfig()
    assert (args.models, args.max_pixels, args.max_work, args.threads, args.queue, args.queue_timeout,
            args.runtime, args.cors_origin, args.max_seconds) == (
        defaults.models, defaults.max_pixels, defaults.max_work, defaults.threads, defaults.queue,
        defaults.queue_timeout, defaults.runtime, defaults.cors_origins, defaults.max_seconds)
    assert int(args.max_upload_mb * 2**20) == defaults.max_upload_bytes
