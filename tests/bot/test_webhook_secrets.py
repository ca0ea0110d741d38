"""Per-project webhook secrets: `mltracker webhook add` creates one (stored hashed) and registers the
project hook through GitLab's hooks API where the bot may; deliveries for that project then need
that secret, and the instance-wide one stays good only for projects without their own."""
from __future__ import annotations

import hashlib
import socket
import sqlite3
import subprocess
import sys

from tests.bot.conftest import BOT_NAME, BOT_TOKEN, DEVELOPER, SECRET, World, new_id

MAINTAINER = 40


def webhook_add(world, *extra, token=BOT_TOKEN) -> subprocess.CompletedProcess:
    env = {"MLTRACKER_BACKEND_STORE_URI": world.server.backend_store_uri, "MLTRACKER_GITLAB_URL": world.fake.url,
           "MLTRACKER_GITLAB_TOKEN": token, "MLTRACKER_PUBLIC_URL": "https://mltracker.example.com",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "mltracker.service.cli", "webhook", "add", "--project", str(world.project_id), *extra],
        capture_output=True, text=True, timeout=120, env=env,
    )


def _hooks(world) -> list[dict]:
    return [h for h in world.fake.bot_state()["hooks"] if h["project_id"] == world.project_id]


def _stored(world) -> list[tuple]:
    path = world.server.backend_store_uri.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT project_id, secret_sha256, hook_id FROM webhook_secrets").fetchall()


def _hook_token(world) -> str:
    """The secret GitLab sends in X-Gitlab-Token (the fake keeps it; its API never shows it)."""
    return world.fake.state.hooks[_hooks(world)[0]["id"]]["token"]


def test_webhook_add_registers_the_hook_and_keeps_only_a_hash(world):
    result = webhook_add(world)
    assert result.returncode == 0, result.stderr
    [hook] = _hooks(world)
    assert hook["url"] == "https://mltracker.example.com/webhooks/gitlab"
    assert hook["pipeline_events"] and hook["merge_requests_events"] and hook["note_events"]
    assert hook["confidential_note_events"] and not hook["push_events"]
    secret = _hook_token(world)
    assert len(secret) >= 40 and secret not in result.stdout + result.stderr
    assert _stored(world) == [(world.project_id, hashlib.sha256(secret.encode()).hexdigest(), hook["id"])]

    # Again: the same hook gets a new secret; the old one stops working.
    assert webhook_add(world).returncode == 0
    [again] = _hooks(world)
    assert again["id"] == hook["id"] and _hook_token(world) != secret
    body = world.note_hook(1, f"@{BOT_NAME} help", world.dev, store=False)
    assert world.deliver("Note Hook", body, secret=secret).status_code == 401
    assert world.deliver("Note Hook", body, secret=_hook_token(world)).status_code == 200


def test_a_project_with_its_own_secret_refuses_the_instance_secret(world):
    assert webhook_add(world).returncode == 0
    own = _hook_token(world)
    body = world.note_hook(1, "hello", world.dev, store=False)
    assert world.deliver("Note Hook", body, secret=SECRET).status_code == 401
    assert world.deliver("Note Hook", body, secret=own).json()["status"] in ("queued", "ignored")
    # another project without its own secret: the instance secret still works there ...
    other = World(world.fake, world.server_url)
    other_body = other.note_hook(1, "hello", other.dev, store=False)
    assert other.deliver("Note Hook", other_body, secret=SECRET).status_code == 200
    # ... and one project's secret is no key to another project
    assert other.deliver("Note Hook", other_body, secret=own).status_code == 401


def test_without_the_right_to_add_hooks_the_secret_is_shown_once_for_manual_setup(world):
    uid = new_id()
    world.fake.add_user(id=uid, username=f"weakbot{uid}")
    world.fake.add_token(token=f"glpat-weak-{uid}", user_id=uid)
    world.fake.set_member(project_id=world.project_id, user_id=uid, access_level=DEVELOPER)
    result = webhook_add(world, token=f"glpat-weak-{uid}")
    assert result.returncode == 0, result.stderr
    assert "403" in result.stderr and _hooks(world) == []
    [(project_id, digest, hook_id)] = _stored(world)
    secret = next(line.strip() for line in result.stdout.splitlines() if line.startswith("    "))
    assert hashlib.sha256(secret.encode()).hexdigest() == digest and hook_id is None
    body = world.note_hook(1, "hello", world.dev, store=False)
    assert world.deliver("Note Hook", body, secret=secret).status_code == 200
    assert world.deliver("Note Hook", body, secret=SECRET).status_code == 401


def test_a_maintainer_token_may_register(world):
    uid = new_id()
    world.fake.add_user(id=uid, username=f"mbot{uid}")
    world.fake.add_token(token=f"glpat-m-{uid}", user_id=uid)
    world.fake.set_member(project_id=world.project_id, user_id=uid, access_level=MAINTAINER)
    assert webhook_add(world, token=f"glpat-m-{uid}").returncode == 0
    assert len(_hooks(world)) == 1


def test_a_token_that_is_no_secret_is_refused_before_the_body_is_read(world):
    """Unauthenticated senders cost no body read: the answer comes while the body is still owed."""
    host, port = world.server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(
            b"POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Event: Note Hook\r\n"
            b"X-Gitlab-Token: not-a-secret\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n{"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401")
