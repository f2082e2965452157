"""What every Space-creating command shares: --hardware, --sleep-time, the private sign-in warning, and
the demo app's vote rate limit (a clock the test moves, so it runs instantly)."""

import importlib.util
import sys

from kit_testing import ROOT, assert_one_error_line, make_generations, run_script

from ktokit.annotate.space import PRIVATE_SIGN_IN_WARNING


def test_create_task_private_space_warns_and_takes_hardware_and_sleep_time(tmp_path, config_dir):
    gen = make_generations(tmp_path / "gen", "en", 2)
    argv = ["--language", "en", "--generations", str(gen), "--space", "my-org/haiku-en", "--dry-run"]
    proc = run_script("create_task.py", *argv, "--private", "--hardware", "cpu-upgrade", "--sleep-time", "-1")
    assert proc.returncode == 0, proc.stderr
    assert (
        "Space        https://huggingface.co/spaces/my-org/haiku-en "
        "(private, cpu-upgrade, sdk docker, HF sign-in, sleep time -1 s)"
    ) in proc.stdout
    assert (
        PRIVATE_SIGN_IN_WARNING in proc.stdout and "Can't sign-in with Hugging Face on Spaces" in proc.stdout
    )
    public = run_script("create_task.py", *argv)
    assert public.returncode == 0 and "Can't sign-in" not in public.stdout + public.stderr
    assert "(public, cpu-basic, sdk docker, HF sign-in)" in public.stdout
    assert_one_error_line(
        run_script("create_task.py", *argv, "--sleep-time", "3600"), "--sleep-time needs paid hardware"
    )
    assert_one_error_line(
        run_script("create_task.py", *argv, "--hardware", "gpu-please"), "--hardware must be one of"
    )


def test_votes_are_rate_limited_per_visitor_session():
    spec = importlib.util.spec_from_file_location(
        "demo_app_limits", ROOT / "space_template" / "demo" / "app.py"
    )
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app
    spec.loader.exec_module(app)
    now = [0.0]
    limit = app.RateLimit(3, clock=lambda: now[0])
    assert [limit.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 20.0
    assert limit.wait("a") == 40.0  # the 4th within a minute waits until the first is a minute old
    assert limit.wait("b") == 0.0  # another visitor has their own allowance
    now[0] = 60.0
    assert limit.wait("a") == 0.0  # the three votes of t=0 left the window
    assert [limit.wait("a") for _ in range(3)] == [0.0, 0.0, 60.0]
