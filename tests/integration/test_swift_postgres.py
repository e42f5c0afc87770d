"""The Swift API with its metadata in PostgreSQL (the scale-out mode) instead of SQLite: the
tests where the database does the work that matters (ordering, concurrency, quotas, atomicity,
kill -9) run again against a server whose `store.metadata` is a PostgreSQL database.

The database is created with a linguistic default collation (ICU en-US), as a cluster initialised
under a usual system locale would have: listings must still come out in Swift's byte order.
The PostgreSQL server is the one scripts/test.sh exports as CIEL_TEST_POSTGRES_URL, or a private
one started here with scripts/pg-test-server.sh."""
import os
import subprocess
import tempfile

import pytest

import test_swift_api_features as features
import test_swift_api_listing as listing
import test_swift_api_objects as objects
import test_swift_bad_input as bad_input
import test_swift_crash as crash
from conftest import ROOT, CielServer
from swift_support import SWIFT_SETTINGS, admin_account, make_member

PG_SCRIPT = ROOT / "scripts" / "pg-test-server.sh"


@pytest.fixture(scope="module")
def pg_base():
    """postgresql://user:password@127.0.0.1:port/ciel_test of a running server."""
    url = os.environ.get("CIEL_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    d = tempfile.mkdtemp(prefix="ciel-pg-swift.", dir="/tmp")  # the postgres user must reach it
    r = subprocess.run(["bash", str(PG_SCRIPT), "start", d], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    url = r.stdout.strip().split("CIEL_TEST_POSTGRES_URL=", 1)[1]
    yield url
    subprocess.run(["bash", str(PG_SCRIPT), "stop", d], capture_output=True, timeout=120)
    subprocess.run(["rm", "-rf", d], timeout=60)


def new_database(base):
    """A fresh database with an ICU en-US default collation; its URL."""
    name = "ciel_swift_" + os.urandom(6).hex()
    sql = f"CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8' TEMPLATE template0"
    r = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return base.rsplit("/", 1)[0] + "/" + name


def start_pg_server(tmp_path_factory, pg_base, settings=None, name="swift-pg"):
    s = dict(SWIFT_SETTINGS, **{"store.metadata": new_database(pg_base)})
    s.update(settings or {})
    return CielServer(tmp_path_factory.mktemp(name) / "data", s).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory, pg_base):
    s = start_pg_server(tmp_path_factory, pg_base)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(server):
    return admin_account(server)


@pytest.fixture
def acct(server, admin):
    """A fresh project for each test, with a container `c` and an object as test_swift_bad_input's
    and test_swift_api_objects' tests expect."""
    a = make_member(server, admin.token, "pg-" + os.urandom(4).hex(), "pg-" + os.urandom(4).hex())
    a.create_container("c", headers={"X-Container-Meta-Keep": "yes"})
    a.put_object("c/existing.txt", b"existing content", headers={"X-Object-Meta-Keep": "yes"})
    return a


def test_database_collation_is_linguistic(pg_base):
    """The premise of this module: the database would sort "a" before "B" if asked naively."""
    url = new_database(pg_base)
    r = subprocess.run(["psql", "-At", url, "-c", "SELECT x FROM (VALUES ('B'), ('a')) t(x) ORDER BY x"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["a", "B"], r.stdout


def test_listing_order_and_parameters(acct):
    acct.create_container("list")
    for i, name in enumerate(listing.NAMES):
        acct.put_object("list/" + name, name.encode() * (i + 1), headers={"Content-Type": f"test/type-{i}"})
    listing.test_container_listing_formats(acct)
    listing.test_container_listing_parameters(acct)
    listing.test_delimiter_listings_page_and_reverse(acct)
    listing.test_names_are_exact_bytes(acct)
    listing.test_names_that_need_escaping_survive_every_format(acct)


def test_account_listing(server, admin):
    listing.test_account_listing_formats_and_parameters(server, admin)


def test_counters_under_concurrency(server, admin):
    listing.test_usage_counters_exact_under_concurrent_put_and_delete(server, admin)
    listing.test_counters_stay_exact_when_containers_are_deleted_under_writers(server, admin)


@pytest.mark.parametrize("header,value", [("X-Container-Meta-Quota-Count", "10"),
                                          ("X-Container-Meta-Quota-Bytes", "10000")])
def test_quotas_hold_under_concurrent_uploads(acct, header, value):
    bad_input.test_quotas_hold_under_concurrent_uploads(acct, header, value)


def test_create_only_and_metadata_races(acct):
    objects.test_create_only_put_has_one_winner(acct)
    objects.test_metadata_posts_are_atomic(acct)


@pytest.mark.parametrize("size,count", [(2_000_000, 20), (100_000, 150), (3000, 200)])
def test_overwrite_is_atomic_for_concurrent_readers(acct, size, count):
    objects.test_overwrite_is_atomic_for_concurrent_readers(acct, size, count)


def test_versioning(acct):
    features.test_versions_location_stack_mode(acct)
    features.test_history_location_keeps_a_delete_marker(acct)


def test_kill_9_during_mixed_writes(tmp_path_factory, pg_base):
    """The mixed-writes crash test, its metadata in PostgreSQL (which keeps running: only
    `ciel serve` is killed)."""
    crash.mixed_writes_then_kill_9(start_pg_server(tmp_path_factory, pg_base, crash.MIXED_SETTINGS, "crash-mixed-pg"))
