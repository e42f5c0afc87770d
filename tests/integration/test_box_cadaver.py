"""Debian's cadaver (the command-line WebDAV client) against the box, with the credentials in the
~/.netrc of a private HOME and its commands fed on stdin: mkcol, put, ls, get (byte for byte),
move, copy, propset/propget/propdel, lock/unlock, rm, rmcol. After every session the server's
state is checked through a separate WebDAV client too."""
import re
import subprocess
import time

import pytest

from box_support import box_server, d, make_box_user, payload, tool_env  # noqa: F401

CADAVER = "/usr/bin/cadaver"
CADAVER_NS = "http://webdav.org/cadaver/custom-properties/"


@pytest.fixture(scope="module")
def user(box_server):
    return make_box_user(box_server, "cadaver-user")


class Cadaver:
    def __init__(self, dav, home, workdir):
        self.dav = dav
        self.home = home
        self.workdir = workdir
        home.mkdir(parents=True, exist_ok=True)
        workdir.mkdir(parents=True, exist_ok=True)
        netrc = home / ".netrc"
        netrc.write_text(f"machine 127.0.0.1\nlogin {dav.user}\npassword {dav.password}\n")
        netrc.chmod(0o600)

    def argv(self):
        return [CADAVER, self.dav.url("")]

    def session(self, *commands, timeout=60):
        """Runs one cadaver session with `commands` on stdin; returns its output (stdout + stderr)."""
        script = "\n".join(commands) + "\nquit\n"
        proc = subprocess.run(self.argv(), input=script.encode(), cwd=self.workdir, env=tool_env(self.home),
                              capture_output=True, timeout=timeout)
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        assert proc.returncode == 0, f"cadaver exited {proc.returncode}:\n{out}"
        assert "Could not" not in out and "failed" not in out.lower(), out
        return out


def succeeded(out, verb, name):
    """cadaver prints "<Verb> `<name>'...: succeeded." (the name may be a full path)."""
    pat = re.compile(verb + r" `[^']*" + re.escape(name) + r"'[^\n]*?succeeded\.")
    assert pat.search(out), (verb, name, out)


@pytest.fixture
def cadaver(user, tmp_path):
    return Cadaver(user, tmp_path / "home", tmp_path / "work")


def test_mkcol_put_ls_get_round_trip(cadaver, user):
    data = payload(300_000, 1)
    (cadaver.workdir / "photo.bin").write_bytes(data)
    notes = "Grüße aus Ciel\n".encode()
    (cadaver.workdir / "notes.txt").write_bytes(notes)
    out = cadaver.session("mkcol round", "cd round", "put photo.bin", "put notes.txt", "mkcol sub", "ls",
                          "get photo.bin back.bin", "get notes.txt back.txt")
    succeeded(out, "Creating", "round")
    succeeded(out, "Creating", "sub")
    succeeded(out, "Uploading photo.bin to", "round/photo.bin")
    succeeded(out, "Downloading", "round/photo.bin")
    # ls shows both files with their sizes and the sub-folder as a collection.
    assert re.search(r"^\s+photo\.bin\s+300000\s", out, re.M), out
    assert re.search(r"^\s+notes\.txt\s+%d\s" % len(notes), out, re.M), out
    assert re.search(r"^Coll:\s+sub\s", out, re.M), out
    assert (cadaver.workdir / "back.bin").read_bytes() == data
    assert (cadaver.workdir / "back.txt").read_bytes() == notes
    # The server agrees.
    kids = user.children("round")
    assert set(kids) == {"photo.bin", "notes.txt", "sub"}, kids
    assert kids["sub"].is_collection and not kids["photo.bin"].is_collection
    assert kids["photo.bin"].size == 300_000 and kids["notes.txt"].size == len(notes)
    assert user.read("round/photo.bin") == data


def test_move_and_copy(cadaver, user):
    user.make_dirs("mc/dest")
    user.put_file("mc/a.txt", b"move me\n")
    user.put_file("mc/b.txt", b"copy me\n")
    out = cadaver.session("cd mc", "move a.txt moved.txt", "copy b.txt dest/b-copy.txt", "move dest dest2", "ls")
    succeeded(out, "Moving", "mc/a.txt")
    succeeded(out, "Copying", "mc/b.txt")
    assert set(user.children("mc")) == {"moved.txt", "b.txt", "dest2"}
    assert user.read("mc/moved.txt") == b"move me\n"
    assert user.read("mc/b.txt") == b"copy me\n"
    assert set(user.children("mc/dest2")) == {"b-copy.txt"}
    assert user.read("mc/dest2/b-copy.txt") == b"copy me\n"
    assert user.get("mc/a.txt").status_code == 404
    assert user.get("mc/dest/b-copy.txt").status_code == 404


def test_propset_propget_propdel(cadaver, user):
    user.make_dirs("props")
    user.put_file("props/doc.txt", b"with properties\n")
    out = cadaver.session("cd props", "propset doc.txt colour blue", "propset doc.txt mood 'très calme'",
                          "propget doc.txt colour", "propget doc.txt mood")
    assert "Value of colour is: blue" in out, out
    assert "Value of mood is: très calme" in out, out
    colour, mood = "{%s}colour" % CADAVER_NS, "{%s}mood" % CADAVER_NS
    (e,) = user.entries("props/doc.txt", "0", colour, mood)
    assert e.text(colour) == "blue" and e.text(mood) == "très calme", e.props
    # Dead properties move with the file.
    assert user.move("props/doc.txt", "props/renamed.txt").status_code == 201
    out = cadaver.session("cd props", "propget renamed.txt colour", "propdel renamed.txt colour")
    assert "Value of colour is: blue" in out, out
    (e,) = user.entries("props/renamed.txt", "0", colour, mood)
    assert colour not in e.props and e.statuses.get(colour) == 404, e.statuses
    assert e.text(mood) == "très calme"


def lockdiscovery(dav, path):
    (e,) = dav.entries(path, "0", d("lockdiscovery"))
    el = e.props.get(d("lockdiscovery"))
    return [] if el is None else el.findall(d("activelock"))


def test_lock_then_unlock(cadaver, user):
    user.make_dirs("locks")
    user.put_file("locks/held.txt", b"original\n")
    log = cadaver.workdir / "cadaver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cadaver.argv(), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cadaver.workdir, env=tool_env(cadaver.home))
        try:
            proc.stdin.write(b"cd locks\nlock held.txt\n")
            proc.stdin.flush()
            deadline = time.monotonic() + 20
            while not lockdiscovery(user, "locks/held.txt") and time.monotonic() < deadline:
                time.sleep(0.2)
            locks = lockdiscovery(user, "locks/held.txt")
            assert len(locks) == 1, log.read_text(errors="replace")
            assert locks[0].find(d("lockscope")).find(d("exclusive")) is not None
            token = locks[0].findtext(f"{d('locktoken')}/{d('href')}")
            assert token and token.strip(), "no lock token in lockdiscovery"
            # While cadaver holds the lock, a write without its token is refused and changes nothing.
            r = user.put("locks/held.txt", b"intruder\n")
            assert r.status_code == 423, (r.status_code, r.text[:300])
            assert user.delete("locks/held.txt").status_code == 423
            assert user.read("locks/held.txt") == b"original\n"
            proc.stdin.write(b"unlock held.txt\nquit\n")
            proc.stdin.close()
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text(errors="replace")
    succeeded(text, "Locking", "held.txt")
    succeeded(text, "Unlocking", "held.txt")
    assert lockdiscovery(user, "locks/held.txt") == []
    assert user.put("locks/held.txt", b"after unlock\n").status_code in (201, 204)
    assert user.read("locks/held.txt") == b"after unlock\n"


def test_rm_and_rmcol(cadaver, user):
    user.make_dirs("gone/inner")
    user.put_file("gone/inner/f1.txt", b"1")
    user.put_file("gone/f2.txt", b"2")
    user.put_file("kept.txt", b"kept")
    out = cadaver.session("cd gone", "rm f2.txt", "cd inner", "rm f1.txt", "cd ..", "rmcol inner", "cd ..",
                          "rmcol gone", "ls")
    succeeded(out, "Deleting", "f2.txt")
    succeeded(out, "Deleting collection", "gone")
    assert not user.exists("gone")
    assert user.get("gone/f2.txt").status_code == 404
    assert "gone" not in user.children("")
    assert user.read("kept.txt") == b"kept"
