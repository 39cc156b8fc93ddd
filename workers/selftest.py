"""The worker self-test: a job with real batches, to check a worker end to end from the jobs page."""
import time


def selftest_run(ctx) -> dict:
    batches = int(ctx.params.get("batches", 10))
    delay = float(ctx.params.get("delay", 0.1))
    fail_at = ctx.params.get("fail_at")
    ctx.progress(done=0, total=batches, message="started")
    for done in range(1, batches + 1):
        time.sleep(delay)
        if fail_at is not None and done == int(fail_at):
            raise RuntimeError(f"self-test asked to fail at batch {done}")
        ctx.progress(done=done)
    return {"batches": batches}
