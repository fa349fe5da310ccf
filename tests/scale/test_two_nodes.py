"""Two web nodes, one object store: what one node received, the other serves, to the right
people only; what the worker built, a web node serves; nothing lands on a node's disk.

A real S3-compatible server (moto's server mode) on loopback, two gunicorn processes with their
own working directories and media folders, and a third process acting as the worker share one
database (a file) and Redis. Requests go over HTTP with the session cookies of real sessions.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


class _Form(HTMLParser):
    """The inputs of the page's main form: name → value (the CSRF token among them)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.files: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag not in ("input", "textarea", "select") or not name:
            return
        kind = attrs.get("type", "text")
        if kind == "file":
            self.files.append(name)
        elif kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self.fields[name] = attrs.get("value", "on")
        elif kind != "submit":
            self.fields.setdefault(name, attrs.get("value", "") or "")


def _request(url, *, cookie=None, data=None, files=None, csrf=None):
    headers = {}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}" + (f"; csrftoken={csrf}" if csrf else "")
    body = None
    if files is not None:
        boundary = "----fundportal-two-nodes"
        parts = []
        for name, value in (data or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content, mimetype) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {mimetype}\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        body = b"".join(parts)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        headers["Referer"] = url
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
        return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two-nodes")
    processes = []
    s3_port = _free_port()
    processes.append(
        subprocess.Popen(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    )  # fmt: skip
    s3_url = f"http://127.0.0.1:{s3_port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FUNDPORTAL_TESTING", "DATABASE_TEST_NAME")
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp}/shared.sqlite3",
        DATABASE_CONN_MAX_AGE="0",
        CACHE_URL=os.environ.get("TWO_NODES_CACHE_URL", "redis://127.0.0.1:6379/7"),
        TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        STORAGE_BACKEND="s3",
        S3_ENDPOINT_URL=s3_url,
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing",
        S3_PUBLIC_BUCKET="fundportal-public",
        S3_PRIVATE_BUCKET="fundportal-private",
        PUBLIC_PAGE_CACHE_SECONDS="0",
        PYTHONPATH=str(ROOT),
    )
    try:
        _wait_for(s3_url)
        s3 = boto3.client(
            "s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # fmt: skip
        for bucket in ("fundportal-public", "fundportal-private"):
            s3.create_bucket(Bucket=bucket)
        subprocess.run([PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], env=env, check=True)
        nodes = []
        for name in ("node1", "node2"):
            workdir = tmp / name
            workdir.mkdir()
            node_env = {
                **env,
                "MEDIA_ROOT": str(workdir / "media"),
                "PRIVATE_MEDIA_ROOT": str(workdir / "private"),
            }
            port = _free_port()
            processes.append(
                subprocess.Popen(
                    [PYTHON, "-m", "gunicorn", "fundportal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                     "--chdir", str(workdir), "--pythonpath", str(ROOT)],
                    env=node_env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
            nodes.append({"url": f"http://127.0.0.1:{port}", "dir": workdir})
        worker_dir = tmp / "worker"
        worker_dir.mkdir()
        worker_env = {
            **env,
            "MEDIA_ROOT": str(worker_dir / "media"),
            "PRIVATE_MEDIA_ROOT": str(worker_dir / "private"),
        }
        seeded = subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), "shell", "-c", f"exec(open({str(ROOT / 'tests/scale/seed_nodes.py')!r}).read())"],
            env=worker_env, cwd=worker_dir, capture_output=True, text=True,
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        data = json.loads(seeded.stdout.strip().splitlines()[-1])
        for node in nodes:
            _wait_for(node["url"] + "/healthz")
        yield {"nodes": nodes, "worker_dir": worker_dir, "s3": s3, "data": data}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _local_files(*folders: Path) -> list[str]:
    return [str(p) for folder in folders for p in folder.rglob("*") if p.is_file()]


def test_an_upload_through_one_node_is_served_by_the_other_to_its_owner_only(cluster):
    node1, node2 = cluster["nodes"]
    data = cluster["data"]
    owner = data["owner"]
    application = data["application"]
    # The section with the file question, through node 1.
    section_url = None
    for number in range(1, 6):
        url = f"{node1['url']}/en/applications/{application}/step/{number}/"
        status, body, _headers = _request(url, cookie=owner)
        assert status == 200, (url, status)
        form = _Form()
        form.feed(body.decode())
        if form.files:
            section_url = url
            break
    assert section_url, "no section with a file question"
    csrf = form.fields["csrfmiddlewaretoken"]
    status, _body, headers = _request(
        section_url, cookie=owner, csrf=csrf, data=form.fields,
        files={form.files[0]: ("letter.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert status in (200, 302), status
    # Node 2 lists it and serves it to the owner.
    status, body, _headers = _request(f"{node2['url']}/en/applications/{application}/", cookie=owner)
    assert status == 200
    links = re.findall(rf"/en/applications/{application}/files/(\d+)/", body.decode())
    assert links, "node 2 does not show the upload"
    download = f"{node2['url']}/en/applications/{application}/files/{links[0]}/"
    status, content, headers = _request(download, cookie=owner)
    assert status == 200 and content == PDF
    assert headers.get("Cache-Control") == "private, no-store"
    # Refused to someone else, and to nobody signed in.
    assert _request(download, cookie=data["stranger"])[0] == 404
    assert _request(download)[0] in (302, 404)
    # It is in the private bucket, under the private prefix, and not readable without credentials.
    keys = [o["Key"] for o in cluster["s3"].list_objects_v2(Bucket="fundportal-private").get("Contents", [])]
    assert any(key.startswith("private/") and key.endswith(".pdf") for key in keys), keys
    acl = cluster["s3"].get_object_acl(
        Bucket="fundportal-private", Key=next(k for k in keys if k.endswith(".pdf"))
    )
    assert not [g for g in acl["Grants"] if g["Grantee"].get("URI", "").endswith("AllUsers")]
    assert not cluster["s3"].list_objects_v2(Bucket="fundportal-public").get("Contents")


def test_an_export_built_by_the_worker_is_downloaded_through_a_web_node(cluster):
    data = cluster["data"]
    assert data["export_status"] == "ready"
    for node in cluster["nodes"]:
        status, content, headers = _request(
            f"{node['url']}/admin/exports/{data['export']}/download/", cookie=data["auditor"]
        )
        assert status == 200, status
        assert content[:2] == b"PK"  # an .xlsx workbook
        assert {"private", "no-store"} <= {part.strip() for part in headers["Cache-Control"].split(",")}
    # Not for someone without a role at the foundation.
    status, _content, _headers = _request(f"{cluster['nodes'][1]['url']}/admin/exports/{data['export']}/download/",
                                          cookie=data["stranger"])  # fmt: skip
    assert status in (302, 403, 404)
    keys = [o["Key"] for o in cluster["s3"].list_objects_v2(Bucket="fundportal-private").get("Contents", [])]
    assert data["export_name"] in {key.removeprefix("private/") for key in keys}


def test_nothing_is_written_to_a_nodes_disk(cluster):
    folders = []
    for node in cluster["nodes"]:
        folders += [node["dir"] / "media", node["dir"] / "private"]
    folders += [cluster["worker_dir"] / "media", cluster["worker_dir"] / "private"]
    assert _local_files(*folders) == []
    # And no stray uploads in the working directories either.
    for node in cluster["nodes"]:
        assert not list(node["dir"].rglob("*.pdf"))
