"""The web console: its session (HttpOnly cookie, CSRF token, revocation at sign-out), its
security headers, its JavaScript budget, and the pages in Debian's Chromium driven by
playwright-core (tests/browser/console.mjs): sign-in in English and in French, a wrong password,
a folder of nested files uploaded through the folder input and found byte-identical in the box,
files sent through a public link's page by a visitor without an account (a file drop, and a
password-protected read-write folder), a file starred, found among the favorites and by a search,
commented on and tagged, and sign-out."""
import gzip
import json
import os
import pathlib
import signal
import struct
import subprocess
import time
import zipfile
import zlib

import pytest
import requests

from box_support import OC, admin_token, make_box_user, payload, poll_login_flow, share, start_box_server, start_login_flow
from identity_support import Keystone

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCRIPT = ROOT / "tests" / "browser" / "console.mjs"
USER, PASSWORD = "camille", "camille-password-1"


def oc(name):
    return "{%s}%s" % (OC, name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert (WEB / "dist" / "index.html").exists(), "the console is not built: bash scripts/build.sh web"
    s = start_box_server(tmp_path_factory, {"compute.ssh_ports": "21100-21199"}, name="console")
    s.dav = make_box_user(s, USER, PASSWORD)
    yield s
    s.stop()
    for pidfile in (s.data_dir / "compute" / "vms").glob("*/qemu.pid"):  # VMs outlive ciel serve by design
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def browser(scenario, server, *extra, user=USER, password=PASSWORD, timeout=180):
    r = subprocess.run(["node", str(SCRIPT), scenario, server.url, user, password, *map(str, extra)],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{scenario}: {r.stderr[-4000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def sign_in(server):
    r = requests.post(server.url + "/console/v1/session", json={"username": USER, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    return r


def test_javascript_budget_of_the_first_load():
    """Under 300 KiB of compressed JavaScript for the first load: every script index.html loads."""
    html = (WEB / "dist" / "index.html").read_text()
    scripts = [p for p in (WEB / "dist" / "assets").glob("*.js") if p.name in html]
    assert scripts, html
    total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in scripts)
    print(f"first-load JavaScript: {total} bytes gzipped in {len(scripts)} file(s)")
    assert total < 300 * 1024


def test_pages_carry_a_strict_policy(server):
    r = requests.get(server.url + "/", headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 200 and '<div id="app">' in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in r.text  # no inline script (the CSP would block it anyway)


def test_session_cookie_csrf_and_revocation(server):
    bad = requests.post(server.url + "/console/v1/session", json={"username": USER, "password": "nope-nope"}, timeout=30)
    assert bad.status_code == 401 and "ciel_session" not in bad.headers.get("Set-Cookie", "")
    assert requests.post(server.url + "/console/v1/session", data="{", timeout=30).status_code == 400

    r = sign_in(server)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    body = r.json()
    assert body["user"]["name"] == USER and body["project"]["name"] == "proj-" + USER
    jar = {"ciel_session": r.cookies["ciel_session"]}
    csrf = body["csrf"]
    url = server.url + f"/remote.php/dav/files/{USER}/from-console.txt"

    # A write with the cookie alone (what a page of another site could make a browser send) is not
    # authenticated; with the CSRF token it is.
    assert requests.put(url, data=b"x", cookies=jar, timeout=30).status_code == 401
    assert requests.put(url, data=b"x", cookies=jar, headers={"X-CSRF-Token": "wrong"}, timeout=30).status_code == 401
    assert requests.put(url, data=b"hello", cookies=jar, headers={"X-CSRF-Token": csrf}, timeout=30).status_code == 201
    assert requests.get(url, cookies=jar, timeout=30).content == b"hello"  # reads need no token
    assert requests.get(server.url + "/console/v1/session", cookies=jar, timeout=30).json()["csrf"] == csrf

    # Sign-out needs the token too, then the session is over everywhere.
    assert requests.delete(server.url + "/console/v1/session", cookies=jar, timeout=30).status_code == 403
    out = requests.delete(server.url + "/console/v1/session", cookies=jar, headers={"X-CSRF-Token": csrf}, timeout=30)
    assert out.status_code == 204 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert requests.get(server.url + "/console/v1/session", cookies=jar, timeout=30).status_code == 401
    assert requests.get(url, cookies=jar, timeout=30).status_code == 401


def test_project_switch_keeps_one_session(server):
    """A user with two projects moves the session from one to the other (same cookie name, new
    token of the same chain): Swift answers for the new project, and sign-out ends both tokens."""
    from box_support import admin_token
    from identity_support import Keystone
    ks = Keystone(server)
    token = admin_token(server)
    r = ks.post("/projects", token, json={"project": {"name": "second-" + USER, "domain_id": "default"}})
    assert r.status_code == 201, r.text
    second = r.json()["project"]["id"]
    uid = sign_in(server).json()["user"]["id"]
    assert ks.put(f"/projects/{second}/users/{uid}/roles/{ks.role_id(token, 'member')}", token).status_code == 204

    first = sign_in(server)
    body = first.json()
    assert second in [p["id"] for p in body["projects"]]
    jar = {"ciel_session": first.cookies["ciel_session"]}
    assert requests.put(server.url + "/console/v1/session", json={"project": second}, cookies=jar, timeout=30).status_code == 403  # no CSRF token
    moved = requests.put(server.url + "/console/v1/session", json={"project": second}, cookies=jar,
                         headers={"X-CSRF-Token": body["csrf"]}, timeout=30)
    assert moved.status_code == 200 and moved.json()["project"]["id"] == second
    jar2 = {"ciel_session": moved.cookies["ciel_session"]}
    assert requests.get(f"{server.url}/v1/AUTH_{second}", cookies=jar2, timeout=30).status_code in (200, 204)
    assert requests.get(f"{server.url}/v1/AUTH_{body['project']['id']}", cookies=jar2, timeout=30).status_code == 403
    nowhere = requests.put(server.url + "/console/v1/session", json={"project": "0" * 32}, cookies=jar2,
                           headers={"X-CSRF-Token": moved.json()["csrf"]}, timeout=30)
    assert nowhere.status_code == 403
    out = requests.delete(server.url + "/console/v1/session", cookies=jar2, headers={"X-CSRF-Token": moved.json()["csrf"]}, timeout=30)
    assert out.status_code == 204
    for j in (jar, jar2):
        assert requests.get(server.url + "/console/v1/session", cookies=j, timeout=30).status_code == 401


def test_sign_in_in_english(server):
    out = browser("login-en", server)
    assert out["title"] == "Sign in to Ciel"
    assert out["who"].startswith(f"Signed in as {USER}") and out["signout"] == 1


def test_sign_in_in_french(server):
    out = browser("login-fr", server)
    assert out["title"] == "Connexion à Ciel"
    assert out["labels"][1:] == ["Nom d'utilisateur", "Mot de passe", "Domaine"]  # [0]: the language switch
    assert out["who"].startswith(f"Connecté en tant que {USER}") and out["signout"] == 1


def test_wrong_password_is_said_plainly(server):
    out = browser("wrong-password", server)
    assert out["alert"] == "The user name or the password is wrong."


def test_upload_a_folder_of_nested_files(server, tmp_path):
    top = tmp_path / "Projet été"
    files = {
        "notes.txt": b"bonjour\n",
        "data/table.csv": payload(70_000, 1),
        "data/deep/image.bin": payload(1_500_000, 2),
        "vide.txt": b"",
    }
    for rel, data in files.items():
        p = top / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    out = browser("upload-folder", server, top)
    assert out["errors"] == 0
    assert out["progress"][0] == out["progress"][1] == sum(len(v) for v in files.values())
    assert sorted(out["listed"]) == ["data", "notes.txt", "vide.txt"]
    for rel, data in files.items():
        assert server.dav.get(f"Projet été/{rel}").content == data, rel


def test_a_large_upload_cut_off_resumes_without_sending_its_chunks_again(server, tmp_path):
    """Files over 16 MiB go up in 8 MiB chunks; a chunk cut off fails the upload, and choosing the
    file again sends only the chunks the server does not hold."""
    big = tmp_path / "film de vacances.bin"
    data = payload(20 * 1024 * 1024 + 12345, 5)
    big.write_bytes(data)
    out = browser("resume-upload", server, big)
    assert out["first"][:2] == ["00001", "00002"] and "00003" in out["first"], out
    assert out["second"] == ["00003"], out
    assert server.dav.get("film de vacances.bin").content == data


def test_an_html_file_of_the_box_does_not_run_in_a_signed_in_browser(server):
    page = (b"<html><head><title>inert</title></head><body><p>visible text</p>"
            b"<script>document.title = 'ran with ' + document.cookie.length</script></body></html>")
    assert server.dav.put("page.html", page, headers={"Content-Type": "text/html"}).status_code == 201
    out = browser("html-file", server, f"/remote.php/dav/files/{USER}/page.html")
    assert out["status"] == 200 and "visible text" in out["text"]
    assert out["title"] == "inert", out


def png(width, height):
    """A small valid PNG (RGB, a gradient)."""
    raw = b"".join(b"\x00" + b"".join(bytes((x * 7 % 256, y * 5 % 256, 128)) for x in range(width)) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def test_previews_of_an_image_a_text_and_a_pdf(server):
    text = "Compte rendu\nligne deux — été\n"
    for name, data in (("photo.png", png(40, 30)), ("notes.md", text.encode()), ("rapport.pdf", PDF), ("archive.bin", b"\x00" * 100)):
        assert server.dav.put(name, data).status_code in (201, 204)
    out = browser("preview", server, json.dumps({"image": "photo.png", "text": "notes.md", "pdf": "rapport.pdf"}))
    assert out["imageSize"] == [40, 30]
    assert out["shown"] == text
    assert out["frame"] == "blob:" and out["pdfBytes"] == len(PDF)
    assert out["others"] == 0  # no preview offered for a binary file


def test_files_dropped_on_the_page_are_uploaded(server):
    files = {"déposé un.txt": "premier fichier\n", "dropped two.txt": "second file\n"}
    out = browser("drop-files", server, json.dumps(files))
    assert out["highlighted"] is True
    for name, text in files.items():
        assert server.dav.get(name).content == text.encode()


def test_rename_delete_and_restore_from_the_trash(server):
    data = payload(5000, 7)
    assert server.dav.put("report.txt", data).status_code == 201
    fileid = server.dav.entries("report.txt", "0", oc("fileid"))[0].text(oc("fileid"))
    out = browser("rename-delete-restore", server, "report.txt")
    assert "renamed-report.txt" in out["afterRename"] and "report.txt" not in out["afterRename"]
    assert "renamed-report.txt" not in out["afterDelete"]
    assert "renamed-report.txt" in out["inTrash"]
    assert out["status"] == '"renamed-report.txt" is back in Home.'
    assert "renamed-report.txt" in out["afterRestore"]
    assert server.dav.get("renamed-report.txt").content == data
    assert server.dav.entries("renamed-report.txt", "0", oc("fileid"))[0].text(oc("fileid")) == fileid  # kept by the rename


def test_activity_page_lists_an_upload(server, tmp_path):
    f = tmp_path / "activity-proof.txt"
    f.write_bytes(b"seen in the activity stream")
    out = browser("activity", server, f)
    assert out["kind"] == "file_created"
    assert out["first"][:3] == ["Created", "activity-proof.txt", "You"], out
    assert out["byMe"] == 1 and out["byOthers"] == 0 and out["sharing"] == 0, out
    assert out["bell"] == "0 notifications" and "No notifications." in out["bellList"], out


def test_activity_page_loads_more(server):
    dav = make_box_user(server, "activity-lea")
    for i in range(55):
        assert dav.put(f"note-{i:02}.txt", b"n").status_code == 201
    out = browser("activity-more", server, user=dav.user, password=dav.password)
    assert out["before"] == 50 and out["more"] == 0, out
    assert out["after"] == [f"note-{i:02}.txt" for i in reversed(range(55))]  # newest first, none twice
    assert out["kinds"] == ["Créé"]


def test_container_upload_download_and_public_switch(server, tmp_path):
    f = tmp_path / "vacances 2026.jpg"
    data = payload(900_000, 11)
    f.write_bytes(data)
    out = browser("storage", server, f)
    assert out["downloaded"] and out["download_status"] == 200
    assert out["before"][:3] == ["photos", "1", "900 KB"]
    # The temporary link reads the object without credentials (the container was private then).
    temp = requests.get(out["temp"], timeout=30)
    assert temp.status_code == 200 and temp.content == data
    assert requests.get(out["temp"].replace("temp_url_sig=", "temp_url_sig=0"), timeout=30).status_code == 401
    assert out["publicAfterReload"] is True
    # Public now: anyone reads the object without credentials.
    project = requests.post(server.url + "/console/v1/session", json={"username": USER, "password": PASSWORD}, timeout=30).json()["project"]["id"]
    anon = requests.get(f"{server.url}/v1/AUTH_{project}/photos/vacances%202026.jpg", timeout=30)
    assert anon.status_code == 200 and anon.content == data


def test_presigned_s3_link_reads_the_object_then_expires(server, tmp_path):
    """An S3 presigned GET link made on the object storage page, signed in the page with a key it
    makes for a user who has none: the object read byte-identical without credentials (plain
    HTTP, and a fresh browser context), refused once the chosen expiry has passed."""
    make_box_user(server, "presign-user", "presign-password-1")
    f = tmp_path / "rapport annuel (v2).pdf"
    data = payload(700_000, 41)
    f.write_bytes(data)
    seconds = 4
    out = browser("presign", server, json.dumps({"file": str(f), "seconds": seconds}), user="presign-user", password="presign-password-1")
    assert out["keyChoice"] == ""  # no key yet: "a new key"
    access = out["keyMade"].split()[3]
    assert out["keyAfter"] == access
    endpoint = json.loads((server.data_dir / "endpoints.json").read_text())["s3"]
    for url in (out["hour"], out["short"]):
        assert url.startswith(f"{endpoint}/shared/") and f"X-Amz-Credential={access}%2F" in url
    assert "X-Amz-Expires=3600&" in out["hour"] and f"X-Amz-Expires={seconds}&" in out["short"]
    assert out["fresh"]["status"] == 200 and out["fresh"]["same"], out["fresh"]
    r = requests.get(out["hour"], timeout=30)
    assert r.status_code == 200 and r.content == data
    # The key is the user's: identity lists it for their project.
    ks = Keystone(server)
    token = ks.token("presign-user", "presign-password-1")
    uid = ks.get("/users", admin_token(server), params={"name": "presign-user"}).json()["users"][0]["id"]
    assert access in [c["access"] for c in ks.get(f"/users/{uid}/credentials/OS-EC2", token).json()["credentials"]]
    # Past its expiry, the short link is refused; a tampered hour link too.
    time.sleep(seconds + 1.5)
    late = requests.get(out["short"], timeout=30)
    assert late.status_code == 403 and b"AccessDenied" in late.content and data[:100] not in late.content
    assert requests.get(out["hour"].replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"), timeout=30).status_code == 403
    assert requests.get(out["hour"], timeout=30).content == data


def test_s3_credentials_work_with_boto3(server):
    import boto3
    from botocore.config import Config
    out = browser("keys", server)
    endpoint = json.loads((server.data_dir / "endpoints.json").read_text())["s3"]
    assert endpoint in out["intro"] and f"proj-{USER}" in out["intro"]
    assert out["secret"] and out["secretAfterReload"] == 0  # shown once
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=out["access"], aws_secret_access_key=out["secret"],
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="from-boto3")
    s3.put_object(Bucket="from-boto3", Key="k.txt", Body=b"made with a key from the console")
    assert s3.get_object(Bucket="from-boto3", Key="k.txt")["Body"].read() == b"made with a key from the console"
    assert "from-boto3" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_launch_a_server_and_read_its_console_log(server, guest_image):
    """Key pair, image upload, launch with user data, ACTIVE, the guest's marker in the console log,
    delete: all through the page (the flavor is the admin's)."""
    from box_support import admin_token
    token = admin_token(server)
    r = requests.post(server.url + "/compute/v2.1/flavors", headers={"X-Auth-Token": token}, timeout=30,
                      json={"flavor": {"name": "c1.small", "vcpus": 1, "ram": 256, "disk": 1}})
    assert r.status_code == 200, r.text
    out = browser("compute", server, guest_image, timeout=900)
    assert out["privateKey"] == "-----BEGIN OPENSSH PRIVATE KEY-----"
    assert out["progress"][0] == out["progress"][1] == guest_image.stat().st_size
    assert out["ssh"].startswith("127.0.0.1:")
    assert out["marker"], "the guest's ciel-guest-ready marker never appeared in the console log"
    # Nothing left running.
    session = sign_in(server)
    servers = requests.get(server.url + "/compute/v2.1/servers", cookies={"ciel_session": session.cookies["ciel_session"]}, timeout=30)
    assert servers.json()["servers"] == []


def test_app_password_for_a_sync_client(server):
    out = browser("app-password", server, "laptop")
    assert out["login"] == USER and len(out["password"]) >= 32
    url = server.url + f"/remote.php/dav/files/{USER}/"
    assert requests.request("PROPFIND", url, auth=(USER, out["password"]), headers={"Depth": "0"}, timeout=30).status_code == 207
    browser("app-password", server, "revoke laptop")
    assert requests.request("PROPFIND", url, auth=(USER, out["password"]), headers={"Depth": "0"}, timeout=30).status_code == 401


def test_copy_then_move_into_folders(server):
    data = payload(3000, 5)
    assert server.dav.put("plan.bin", data).status_code == 201
    fileid = server.dav.entries("plan.bin", "0", oc("fileid"))[0].text(oc("fileid"))
    assert server.dav.mkcol("archive").status_code == 201
    assert server.dav.mkcol("archive/2026").status_code == 201
    out = browser("move-copy", server, "plan.bin")
    assert out == {"afterCopy": 1, "afterMove": 0}
    assert server.dav.get("archive/plan.bin").content == data  # the copy
    assert server.dav.get("archive/2026/plan.bin").content == data  # the original, moved
    assert server.dav.entries("archive/2026/plan.bin", "0", oc("fileid"))[0].text(oc("fileid")) == fileid
    assert server.dav.get("plan.bin").status_code == 404


def test_favorite_search_comment_and_tag_a_file(server):
    assert server.dav.mkcol("projects").status_code == 201
    assert server.dav.put("projects/roadmap-2027.md", b"# Roadmap").status_code == 201
    assert server.dav.put("projects/budget.ods", b"numbers").status_code == 201
    out = browser("collab", server, "roadmap-2027.md")
    assert out["favorites"] == ["roadmap-2027.md"]
    assert out["found"] == ["roadmap-2027.md"]
    assert out["where"] == "in /projects"
    assert out["comment"] == "Looks good to me"
    assert out["byTag"] == ["roadmap-2027.md"]
    # What the page did is what a Nextcloud client sees.
    report = ('<oc:filter-files xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop>'
              '<oc:filter-rules><oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>')
    r = server.dav.request("REPORT", "", data=report)
    assert r.status_code == 207 and "projects/roadmap-2027.md" in r.text and "budget" not in r.text
    fileid = server.dav.entries("projects/roadmap-2027.md", "0", oc("fileid"))[0].text(oc("fileid"))
    r = requests.request("REPORT", f"{server.url}/remote.php/dav/comments/files/{fileid}", auth=(USER, PASSWORD),
                         data='<oc:filter-comments xmlns:oc="http://owncloud.org/ns"/>', timeout=30)
    assert r.status_code == 207 and "<oc:message>Looks good to me</oc:message>" in r.text
    r = requests.request("PROPFIND", f"{server.url}/remote.php/dav/systemtags-relations/files/{fileid}", auth=(USER, PASSWORD),
                         headers={"Depth": "1"}, timeout=30)
    assert r.status_code == 207 and "<oc:display-name>release</oc:display-name>" in r.text


def test_restore_an_earlier_version(server):
    assert server.dav.put("draft.txt", b"first draft").status_code == 201
    assert server.dav.put("draft.txt", b"second draft, worse").status_code == 204
    out = browser("versions", server, "draft.txt")
    assert out["heading"] == "Versions de « draft.txt »"
    assert len(out["before"]) == 1 and len(out["after"]) == 1 and out["after"] != out["before"]
    assert server.dav.get("draft.txt").content == b"first draft"  # the version restored
    # ... and what it replaced is the version now.
    fileid = server.dav.entries("draft.txt", "0", oc("fileid"))[0].text(oc("fileid"))
    r = requests.get(f"{server.url}/remote.php/dav/versions/{USER}/versions/{fileid}/{out['after'][0]}", auth=(USER, PASSWORD), timeout=30)
    assert r.status_code == 200 and r.content == b"second draft, worse"


def test_a_folder_of_10000_entries_scrolls_from_a_small_page(server):
    from concurrent.futures import ThreadPoolExecutor
    assert server.dav.mkcol("big").status_code == 201
    session = requests.Session()
    session.auth = (USER, PASSWORD)

    def put(i):
        return session.put(f"{server.url}/remote.php/dav/files/{USER}/big/f{i:05d}.txt", data=b"x", timeout=60).status_code
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(put, range(10_000))) == {201}
    out = browser("large-folder", server, "big")
    print(f"10,000 entries: first rows shown {out['shownMs']} ms after the click")
    assert out["first"] == "f00000.txt"
    assert 0 < out["rowsAtTop"] <= 150 and 0 < out["rowsAtEnd"] <= 150  # never the 10,000 rows
    assert out["lastVisible"]


def test_public_link_with_a_password_opens_in_a_fresh_browser(server):
    data = "Le compte rendu, à partager.\n"
    assert server.dav.put("compte-rendu.txt", data.encode()).status_code == 201
    out = browser("public-link", server, "compte-rendu.txt")
    assert out["url"].startswith(server.url + "/s/")
    assert "password" in out["listed"] and out["tomorrow"] in out["listed"]
    assert out["asked"] == 1  # the fresh context was asked for the password
    assert out["status"] == 200 and out["body"] == data
    # Without the password, nothing but the question.
    anon = requests.get(out["url"], timeout=30)
    assert anon.status_code in (200, 401) and 'type="password"' in anon.text and data not in anon.text


def test_share_a_folder_with_a_second_user_who_signs_in_and_sees_it(server):
    """The share panel's people section: camille shares a folder with a colleague (a user of her
    project), who signs in (in French) and opens it among their own files."""
    colleague = make_box_user(server, "morgane", "morgane-password-1")
    ks = Keystone(server)
    token = admin_token(server)
    project = ks.get("/projects", token, params={"name": "proj-" + USER}).json()["projects"][0]["id"]
    uid = ks.get("/users", token, params={"name": "morgane"}).json()["users"][0]["id"]
    assert ks.put(f"/projects/{project}/users/{uid}/roles/{ks.role_id(token, 'member')}", token).status_code == 204
    assert server.dav.mkcol("Dossier commun").status_code == 201
    assert server.dav.put("Dossier commun/ordre du jour.txt", b"1. budget\n").status_code == 201
    out = browser("share-user", server, json.dumps({"folder": "Dossier commun", "file": "ordre du jour.txt",
                                                   "other": "morgane", "otherPassword": "morgane-password-1"}))
    assert out["level"] == "15"
    assert out["names"] == ["ordre du jour.txt"]
    # The colleague's WebDAV sees the same, and may edit (view and edit).
    assert colleague.read("Dossier commun/ordre du jour.txt") == b"1. budget\n"
    assert colleague.put("Dossier commun/ordre du jour.txt", b"1. budget\n2. travaux\n").status_code == 204
    assert server.dav.read("Dossier commun/ordre du jour.txt") == b"1. budget\n2. travaux\n"


def test_download_a_folder_as_a_zip(server, tmp_path):
    """The Files page's zip link on a folder: the browser saves "<folder>.zip", every file in it."""
    files = {"lettre.txt": "Chère Camille,\n".encode(), "images/été.png": payload(400_000, 33), "images/vide/.keep": b""}
    server.dav.make_dirs("Archives 2026/images/vide")
    for rel, data in files.items():
        assert server.dav.put(f"Archives 2026/{rel}", data).status_code == 201, rel
    saved = tmp_path / "saved.zip"
    out = browser("download-folder", server, json.dumps({"name": "Archives 2026", "saveAs": str(saved)}))
    assert out["label"] == "Download (zip)" and out["failure"] is None
    assert out["suggested"] == "Archives 2026.zip"
    with zipfile.ZipFile(saved) as z:
        assert z.testzip() is None
        assert {n for n in z.namelist() if not n.endswith("/")} == {f"Archives 2026/{rel}" for rel in files}
        for rel, data in files.items():
            assert z.read(f"Archives 2026/{rel}") == data, rel


def test_file_drop_page_takes_uploads_from_a_fresh_browser(server, tmp_path):
    """An upload-only link's page: the visitor sees nothing of the folder, picks two files, sees
    each reported uploaded; the owner finds them byte for byte, and a name already taken got a
    number instead of replacing the file there."""
    assert server.dav.mkcol("dépôt").status_code == 201
    assert server.dav.put("dépôt/déjà là.txt", b"was here first").status_code == 201
    link = share(server, server.dav, "/dépôt", permissions=4)
    files = {"déjà là.txt": b"the visitor's file\n", "scan 2026.pdf": payload(1_200_000, 31)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    out = browser("link-upload", server, json.dumps({"url": link["url"], "files": [str(tmp_path / n) for n in files]}))
    assert out["problems"] == []  # the script ran under the page's policy, nothing refused
    assert "déjà là.txt" not in out["shown"] and "was here first" not in out["shown"]  # no listing
    assert [(r["name"], r["state"], r["said"]) for r in out["rows"]] == [(n, "uploaded", "Uploaded") for n in files]
    assert all(r["value"] == r["max"] for r in out["rows"])
    assert out["status"] == "2 of 2 files uploaded."
    assert server.dav.get("dépôt/déjà là.txt").content == b"was here first"
    assert server.dav.get("dépôt/déjà là (2).txt").content == files["déjà là.txt"]
    assert server.dav.get("dépôt/scan 2026.pdf").content == files["scan 2026.pdf"]


def test_password_protected_link_page_takes_uploads(server, tmp_path):
    """A read-write folder link with a password: after the password, the page's cookie (HttpOnly,
    for the page and the link's public WebDAV only) lets its upload form send files."""
    assert server.dav.mkcol("équipe").status_code == 201
    link = share(server, server.dav, "/équipe", permissions=15, password="team-pass-1")
    files = {"compte rendu.odt": payload(300_000, 32), "notes.txt": b"ordre du jour\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    out = browser("link-upload", server, json.dumps({"url": link["url"], "files": [str(tmp_path / n) for n in files],
                                                     "password": "team-pass-1"}))
    assert out["asked"] == 1 and out["problems"] == []
    assert [(r["name"], r["state"]) for r in out["rows"]] == [(n, "uploaded") for n in files]
    assert out["status"] == "2 of 2 files uploaded."
    paths = sorted(c["path"] for c in out["cookies"] if c["name"] == "ciel_link")
    assert paths == [f"/public.php/dav/files/{link['token']}", f"/s/{link['token']}"]
    assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in out["cookies"] if c["name"] == "ciel_link")
    for name, data in files.items():
        assert server.dav.get(f"équipe/{name}").content == data
    # Without the password or its cookie, public WebDAV still refuses a write.
    r = requests.put(f"{server.url}/public.php/dav/files/{link['token']}/intrus.txt", data=b"x", timeout=30)
    assert r.status_code == 401 and server.dav.get("équipe/intrus.txt").status_code == 404


def test_administration_user_quota_and_audit(server):
    from box_support import admin_password, admin_token
    out = browser("admin", server, f"proj-{USER}", user="admin", password=admin_password(server))
    assert out["made"] == "User dominique created."
    # The new user signs in, on the project chosen, with the member role.
    r = requests.post(server.url + "/console/v1/session", json={"username": "dominique", "password": "dominique-pass-1"}, timeout=30)
    assert r.status_code == 201 and r.json()["project"]["name"] == f"proj-{USER}" and "member" in r.json()["roles"]
    project = r.json()["project"]["id"]
    q = requests.get(f"{server.url}/compute/v2.1/os-quota-sets/{project}", headers={"X-Auth-Token": admin_token(server)}, timeout=30)
    assert q.json()["quota_set"]["instances"] == 3
    uid = r.json()["user"]["id"]
    assert any("user.create" in row and f"user:{uid}" in row for row in out["audit"]), out["audit"]
    assert any("assignment.grant" in row and f"user:{uid} role:member" in row for row in out["audit"]), out["audit"]


def test_administration_shows_usage_per_project(server):
    """The projects table shows each project's object storage (bytes, objects) and servers: an
    object uploaded to a fresh project's account appears there with its exact size."""
    from box_support import admin_password
    dav = make_box_user(server, "usage-user", "usage-password-1")
    ks = Keystone(server)
    token = ks.token(dav.user, dav.password, project="proj-usage-user")
    project = ks.get("/projects", admin_token(server), params={"name": "proj-usage-user"}).json()["projects"][0]["id"]
    account = f"{server.url}/v1/AUTH_{project}"
    assert requests.put(account + "/measured", headers={"X-Auth-Token": token}, timeout=30).status_code in (201, 202)
    data = payload(123_456, 42)
    assert requests.put(account + "/measured/one.bin", data=data, headers={"X-Auth-Token": token}, timeout=30).status_code == 201
    assert requests.put(account + "/measured/two.txt", data=b"2", headers={"X-Auth-Token": token}, timeout=30).status_code == 201
    out = browser("admin-usage", server, "proj-usage-user", user="admin", password=admin_password(server))
    assert out["bytes"] == str(len(data) + 1) and out["objects"] == "2", out
    assert out["text"] == "Object storage: 123.5 KB in 2 objects", out
    assert out["compute"] == "Servers: 0, 0 vCPUs, 0 MiB of RAM", out


def test_administration_groups_seen_through_keystone(server):
    """A group made on the administration page (in French), two users added, one removed: Keystone
    then lists the group with the one member left. Another group made there, then deleted, is gone."""
    from box_support import admin_password
    make_box_user(server, "group-member", "group-member-pass-1")
    out = browser("admin-groups", server, json.dumps({"group": "auditeurs", "members": [USER, "group-member"], "remove": USER,
                                                   "drop": "temporaire"}),
                  user="admin", password=admin_password(server))
    assert out["made"] == "Groupe auditeurs créé."
    assert out["shown"] == ["group-member"]
    assert "auditeurs" in out["left"] and "temporaire" not in out["left"]
    ks = Keystone(server)
    token = admin_token(server)
    groups = ks.get("/groups", token, params={"name": "auditeurs"}).json()["groups"]
    assert len(groups) == 1
    members = ks.get(f"/groups/{groups[0]['id']}/users", token).json()["users"]
    assert [m["name"] for m in members] == ["group-member"]
    assert ks.get("/groups", token, params={"name": "temporaire"}).json()["groups"] == []


def test_login_flow_v2_is_approved_in_the_console(server):
    """A sync client starts Login Flow v2; its login URL leads a fresh browser to the console, where
    the user signs in, sees the client named and grants access: the client's poll then gets an app
    password that opens WebDAV. The link is spent afterwards."""
    flow = start_login_flow(server, "Bureau de Camille (Nextcloud desktop)")
    hop = requests.get(flow["login"], allow_redirects=False, timeout=30)
    assert hop.status_code == 303 and hop.headers["Location"].startswith("/#/connect/")
    assert poll_login_flow(flow).status_code == 404
    out = browser("connect", server, json.dumps({"url": flow["login"], "answer": "grant", "locale": "en-US"}))
    assert out["problems"] == []
    assert out["path"] == "/#/connect/<token>"
    assert out["note"] == "A sync client asks to connect to your box: sign in to answer."
    assert out["asks"] == f"Bureau de Camille (Nextcloud desktop) asks for access to the box of {USER}."
    assert out["result"] == "Bureau de Camille (Nextcloud desktop) is now connected. You can close this window."
    assert out["afterReload"].startswith("This login link is unknown or has expired")
    r = poll_login_flow(flow)
    assert r.status_code == 200, r.text
    granted = r.json()
    assert granted["loginName"] == USER and granted["server"] == server.url
    dav = f"{server.url}/remote.php/dav/files/{USER}/"
    assert requests.request("PROPFIND", dav, auth=(USER, granted["appPassword"]), headers={"Depth": "0"}, timeout=30).status_code == 207
    assert poll_login_flow(flow).status_code == 404  # once only


def test_login_flow_v2_refused_in_the_console(server):
    """Refusing in the console (in French) ends the flow: the client's poll stays 404."""
    flow = start_login_flow(server, "Téléphone de Camille")
    out = browser("connect", server, json.dumps({"url": flow["login"], "answer": "refuse", "locale": "fr-FR"}))
    assert out["asks"] == f"Téléphone de Camille demande l'accès à l'espace de {USER}."
    assert out["result"] == "L'accès a été refusé à Téléphone de Camille."
    assert out["afterReload"].startswith("Ce lien de connexion est inconnu ou a expiré")
    assert poll_login_flow(flow).status_code == 404
    session = sign_in(server)
    token = flow["login"].rsplit("/", 1)[1]
    late = requests.post(f"{server.url}/box/v1/login-flows/{token}", cookies={"ciel_session": session.cookies["ciel_session"]},
                         headers={"X-CSRF-Token": session.json()["csrf"]}, timeout=30)
    assert late.status_code == 404  # nothing left to grant
    assert poll_login_flow(flow).status_code == 404


def test_sign_out_revokes_the_session(server):
    out = browser("signout", server)
    assert not out["cookie_after"]
    assert out["replay_status"] == 401
