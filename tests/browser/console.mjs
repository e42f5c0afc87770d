// Browser scenarios for the web console, run by tests/integration/test_console.py against a live
// `ciel serve`: Debian's Chromium, headless, driven by playwright-core (never a downloaded
// browser). usage: node console.mjs <scenario> <base url> <user> <password> [arg]
// Prints one JSON line with what the scenario saw; exits non-zero (with the reason) on failure.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const [scenario, base, user, password, arg] = process.argv.slice(2);

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function signIn(page, expectFilesHeading, as = user, pass = password) {
  await page.goto(base + '/');
  await page.locator('input[name=username]').fill(as);
  await page.locator('input[name=password]').fill(pass);
  await page.locator('button[type=submit]').click();
  await page.getByRole('heading', { name: expectFilesHeading }).waitFor({ timeout: 15000 });
}

// Signed in (English), a container made on the object storage page and opened, a file uploaded
// into it; the page and the file's row.
async function uploadToNewContainer(browser, container, file) {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, 'Files');
  await page.getByRole('link', { name: 'Storage' }).click();
  await page.getByRole('heading', { name: 'Object storage' }).waitFor();
  await page.locator('input[name=container]').fill(container);
  await page.getByRole('button', { name: 'Create a container' }).click();
  await page.locator(`tr[data-name="${container}"] a`).click();
  await page.getByRole('heading', { name: container }).waitFor();
  await page.locator('[data-testid=upload-objects]').setInputFiles(file);
  const row = page.locator(`tr[data-name="${path.basename(file)}"]`);
  try {
    await row.waitFor({ timeout: 60000 });
  } catch (err) {
    // Say what the page said (an upload error line), not only that the row never came.
    const said = await page.locator('[role=alert]').allTextContents();
    throw new Error(`${err.message}\npage errors: ${JSON.stringify(said)}`);
  }
  return { page, row };
}

const scenarios = {
  // The sign-in page and the signed-in shell in the browser's language.
  async 'login-en'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(base + '/');
    const title = await page.getByRole('heading', { level: 1 }).textContent();
    check(title === 'Sign in to Ciel', `sign-in heading: ${title}`);
    await signIn(page, 'Files');
    const who = await page.locator('.who').textContent();
    const signout = await page.getByRole('button', { name: 'Sign out' }).count();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'ciel_session');
    check(session && session.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);
    const fromScript = await page.evaluate(() => document.cookie);
    check(!fromScript.includes('ciel_session'), 'the session cookie is visible to scripts');
    return { title, who, signout };
  },
  async 'login-fr'(browser) {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(base + '/');
    const title = await page.getByRole('heading', { level: 1 }).textContent();
    check(title === 'Connexion à Ciel', `titre : ${title}`);
    const labels = await page.locator('label').allTextContents();
    await signIn(page, 'Fichiers');
    const who = await page.locator('.who').textContent();
    const signout = await page.getByRole('button', { name: 'Se déconnecter' }).count();
    // Switching the language re-renders every string at once.
    await page.getByLabel('Langue').selectOption('en');
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    return { title, labels, who, signout };
  },
  async 'wrong-password'(browser) {
    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await page.goto(base + '/');
    await page.locator('input[name=username]').fill(user);
    await page.locator('input[name=password]').fill(password + '-wrong');
    await page.locator('button[type=submit]').click();
    const alert = await page.getByRole('alert').textContent();
    return { alert };
  },
  // A folder of nested files through the folder input: progress, then the files listed.
  async 'upload-folder'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.locator('[data-testid=upload-folder]').setInputFiles(arg);
    await page.getByText(/^Uploaded \d+ files$/).waitFor({ timeout: 60000 });
    const progress = await page.locator('[data-testid=overall-progress]').evaluate((p) => [p.value, p.max]);
    const top = path.basename(arg);
    await page.locator(`tr[data-name="${top}"] td:first-child a`).click();
    await page.locator('.crumbs').getByText(top).waitFor();
    await page.locator('tbody tr').first().waitFor();
    const listed = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    const errors = await page.locator('.transfers .error').count();
    return { progress, listed, errors };
  },
  // Rename a file, delete it, find it in the trash, restore it (arg: the file's name).
  // Upload a file, then the Activity page lists it as created by the user; the filters narrow it.
  async activity(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const name = path.basename(arg);
    await page.locator('[data-testid=upload-files]').setInputFiles(arg);
    await page.getByText(/^Uploaded \d+ files$/).waitFor({ timeout: 60000 });
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    const row = page.locator('tbody tr', { hasText: name }).first();
    await row.waitFor();
    const first = await row.locator('td').allTextContents();
    const kind = await row.getAttribute('data-kind');
    const rowsFor = async (label, id) => {
      await page.getByLabel('Show').selectOption({ label });
      await page.locator(`main[data-filter="${id}"]`).waitFor();
      return page.locator('tbody tr', { hasText: name }).count();
    };
    const byOthers = await rowsFor('By others', 'by');
    const sharing = await rowsFor('Sharing', 'files_sharing');
    const byMe = await rowsFor('By me', 'self');
    const bell = await page.locator('.bell > button').getAttribute('aria-label');
    await page.locator('.bell > button').click();
    const bellList = await page.locator('.bell-list').textContent();
    return { first, kind, byOthers, sharing, byMe, bell, bellList };
  },
  // A long stream comes 50 entries at a time; "Load more" appends the older ones, in the French UI.
  async 'activity-more'(browser) {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await signIn(page, 'Fichiers');
    await page.getByRole('link', { name: 'Activité' }).click();
    await page.locator('main[data-filter="all"] tbody tr').first().waitFor();
    const rows = page.locator('tbody tr');
    const before = await rows.count();
    await page.getByRole('button', { name: 'Afficher plus' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr').length > n, before);
    const after = await rows.locator('td:nth-child(2)').allTextContents();
    const kinds = await rows.locator('td:first-child').allTextContents();
    const more = await page.getByRole('button', { name: 'Afficher plus' }).count();
    return { before, after, kinds: [...new Set(kinds)], more };
  },
  async 'rename-delete-restore'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await signIn(page, 'Files');
    const names = () => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    const renamed = `renamed-${arg}`;
    await page.locator(`tr[data-name="${arg}"]`).getByRole('button', { name: 'Rename' }).click();
    await page.locator('input[name=rename]').fill(renamed);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator(`tr[data-name="${renamed}"]`).waitFor();
    const afterRename = await names();
    await page.locator(`tr[data-name="${renamed}"]`).getByRole('button', { name: 'Delete' }).click();
    await page.locator(`tr[data-name="${renamed}"]`).waitFor({ state: 'detached' });
    const afterDelete = await names();
    await page.getByRole('link', { name: 'Trash' }).click();
    await page.getByRole('heading', { name: 'Trash' }).waitFor();
    await page.locator(`tr[data-name="${renamed}"]`).waitFor();
    const inTrash = await names();
    await page.locator(`tr[data-name="${renamed}"]`).getByRole('button', { name: 'Restore' }).click();
    const status = await page.getByRole('status').textContent();
    await page.getByRole('link', { name: 'Files' }).click();
    await page.locator(`tr[data-name="${renamed}"]`).waitFor();
    const afterRestore = await names();
    return { afterRename, afterDelete, inTrash, status, afterRestore };
  },
  // Object storage: create a container, upload an object (arg: a file), make it public; the
  // object's download link works with the session.
  async storage(browser) {
    const { page } = await uploadToNewContainer(browser, 'photos', arg);
    const name = path.basename(arg);
    const href = await page.locator(`tr[data-name="${name}"] a`).getAttribute('href');
    const download = await page.request.get(base + href);
    const downloaded = Buffer.from(await download.body()).equals(await import('node:fs').then((fs) => fs.readFileSync(arg)));
    await page.locator(`tr[data-name="${name}"]`).getByRole('button', { name: 'Temporary link' }).click();
    const temp = await page.locator('[data-testid=temp-url]').getAttribute('href');
    await page.getByRole('link', { name: 'Object storage' }).click();
    const row = page.locator('tr[data-name="photos"]');
    await row.waitFor();
    const before = await row.locator('td').allTextContents();
    await row.getByRole('checkbox').check();
    await page.waitForFunction(() => document.querySelector('tr[data-name="photos"] input[type=checkbox]')?.checked === true);
    await page.reload();
    await page.locator('tr[data-name="photos"]').waitFor();
    const publicAfterReload = await page.locator('tr[data-name="photos"]').getByRole('checkbox').isChecked();
    return { href, downloaded, download_status: download.status(), before, publicAfterReload, temp };
  },
  // S3 credentials: create one and read its secret, shown once.
  async keys(browser) {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await signIn(page, 'Fichiers');
    await page.getByRole('link', { name: 'Clés S3' }).click();
    await page.getByRole('heading', { name: 'Identifiants S3' }).waitFor();
    const intro = await page.locator('main p').first().textContent();
    await page.getByRole('button', { name: 'Créer une clé' }).click();
    const access = await page.locator('[data-testid=new-access]').textContent();
    const secret = await page.locator('[data-testid=new-secret]').textContent();
    await page.locator(`tr[data-name="${access}"]`).waitFor();
    await page.reload();
    await page.locator(`tr[data-name="${access}"]`).waitFor();
    const secretAfterReload = await page.locator('[data-testid=new-secret]').count();
    return { intro, access, secret, secretAfterReload };
  },
  // Servers: make a key pair (the private key downloaded once), upload the image given (arg), launch
  // a server with user data, wait until ACTIVE, read its console log until the guest's marker,
  // then delete it.
  async compute(browser) {
    const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await signIn(page, 'Files');
    await page.getByRole('link', { name: 'Servers' }).click();
    await page.getByRole('heading', { name: 'Servers', level: 1 }).waitFor();
    await page.locator('input[name=key-name]').fill('console-key');
    await page.getByRole('button', { name: 'Create a key pair' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=private-key]').click()]);
    const privateKey = await import('node:fs').then(async (fs) => fs.readFileSync(await download.path(), 'utf8'));
    await page.locator('input[name=image-name]').fill('guest');
    await page.locator('input[name=image-file]').setInputFiles(arg);
    await page.getByRole('button', { name: 'Upload the image' }).click();
    await page.locator('section.images tr[data-name="guest"]').filter({ hasText: 'active' }).waitFor({ timeout: 120000 });
    const progress = await page.locator('[data-testid=image-progress]').evaluate((p) => [p.value, p.max]);
    await page.locator('input[name=server-name]').fill('web1');
    await page.locator('select[name=image]').selectOption({ label: 'guest' });
    await page.locator('select[name=keypair]').selectOption('console-key');
    await page.locator('textarea[name=user-data]').fill('#!/bin/sh\necho hello-from-the-console > /root/hello\n');
    await page.getByRole('button', { name: 'Launch' }).click();
    const row = page.locator('tr[data-name="web1"]');
    await row.locator('[data-testid=status]').filter({ hasText: /^ACTIVE$/ }).waitFor({ timeout: 240000 });
    const ssh = await row.locator('code').textContent();
    await row.getByRole('button', { name: 'Console log' }).click();
    let log = '';
    for (let i = 0; i < 120 && !log.includes('ciel-guest-ready'); i++) {
      await page.waitForTimeout(2000);
      await page.locator('section.console').getByRole('button', { name: 'Refresh' }).click();
      log = await page.locator('[data-testid=console-log]').textContent();
    }
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 240000 });
    return { privateKey: privateKey.split('\n')[0], progress, ssh, marker: log.includes('ciel-guest-ready') };
  },
  // App passwords: create one (shown once), or with arg "revoke NAME", revoke it.
  async 'app-password'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.getByRole('link', { name: 'App passwords' }).click();
    await page.getByRole('heading', { name: 'App passwords' }).waitFor();
    if (arg.startsWith('revoke ')) {
      const name = arg.slice(7);
      await page.locator(`tr[data-name="${name}"]`).getByRole('button', { name: 'Revoke' }).click();
      await page.locator(`tr[data-name="${name}"]`).waitFor({ state: 'detached' });
      return { revoked: name };
    }
    await page.locator('input[name=app-name]').fill(arg);
    await page.getByRole('button', { name: 'Create an app password' }).click();
    const login = await page.locator('[data-testid=app-login]').textContent();
    const password = await page.locator('[data-testid=app-password]').textContent();
    await page.locator(`tr[data-name="${arg}"]`).waitFor();
    return { login, password };
  },
  // Versions: list the earlier versions of a file (arg) and restore the newest one.
  async versions(browser) {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await signIn(page, 'Fichiers');
    await page.locator(`tr[data-name="${arg}"]`).getByRole('button', { name: 'Versions' }).click();
    const panel = page.locator('section.versions');
    await panel.getByRole('heading', { level: 2 }).waitFor();
    const heading = await panel.getByRole('heading').textContent();
    const ids = () => panel.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    const before = await ids();
    await panel.locator('tbody tr').first().getByRole('button', { name: 'Restaurer cette version' }).click();
    // The restored version becomes the file's content; the content it replaced becomes a version.
    await page.waitForFunction((old) => {
      const rows = [...document.querySelectorAll('section.versions tbody tr')].map((r) => r.getAttribute('data-name'));
      return rows.length > 0 && !rows.includes(old);
    }, before[0], { timeout: 15000 });
    return { heading, before, after: await ids() };
  },
  // A folder of many entries (arg: its name): only the rows in view are in the page, and
  // scrolling to the end shows the last entries.
  async 'large-folder'(browser) {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const started = Date.now();
    await page.locator(`tr[data-name="${arg}"] td:first-child a`).click();
    const scroller = page.locator('[data-testid=scroller]');
    await scroller.waitFor({ timeout: 60000 });
    await scroller.locator('tbody tr[data-name]').first().waitFor();
    const shownMs = Date.now() - started;
    const rowsAtTop = await scroller.locator('tbody tr[data-name]').count();
    const first = await scroller.locator('tbody tr[data-name]').first().getAttribute('data-name');
    await scroller.evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('[data-testid=scroller] tbody tr[data-name]');
      return rows.length > 0 && rows[rows.length - 1].getAttribute('data-name') === 'f09999.txt';
    }, null, { timeout: 10000 });
    const rowsAtEnd = await scroller.locator('tbody tr[data-name]').count();
    const lastVisible = await page.locator('tr[data-name="f09999.txt"]').isVisible();
    return { shownMs, rowsAtTop, first, rowsAtEnd, lastVisible };
  },
  // A public link with a password and an expiry, made in the share panel of a file (arg), then
  // opened in a fresh browser context (no session): the password page, then the download.
  async 'public-link'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.locator(`tr[data-name="${arg}"]`).getByRole('button', { name: 'Share' }).click();
    const panel = page.locator('section.share');
    await panel.getByRole('heading', { level: 2 }).waitFor();
    const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
    await panel.locator('input[name=link-password]').fill('link-pass-1');
    await panel.locator('input[name=link-expires]').fill(tomorrow);
    await panel.getByRole('button', { name: 'Create a public link' }).click();
    const link = panel.locator('[data-testid=link-url]').first();
    await link.waitFor();
    const url = await link.getAttribute('href');
    const listed = await panel.locator('ul.links li').first().textContent();

    const stranger = await browser.newContext({ locale: 'en-US' });
    const visit = await stranger.newPage();
    await visit.goto(url);
    const asked = await visit.locator('input[type=password]').count();
    await visit.locator('input[type=password]').fill('link-pass-1');
    await visit.locator('button[type=submit]').click();
    const download = visit.locator('a[href*="/download"]').first();
    await download.waitFor();
    const got = await visit.request.get(new URL(await download.getAttribute('href'), url).toString());
    const body = Buffer.from(await got.body()).toString('utf8');
    await stranger.close();
    return { url, listed, tomorrow, asked, status: got.status(), body };
  },
  // A folder downloaded as a zip from the Files page (a plain link: ?accept=zip); arg: the folder's
  // name and where to save the download, as JSON.
  async 'download-folder'(browser) {
    const { name, saveAs } = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const link = page.locator(`tr[data-name="${name}"] [data-testid=download-zip]`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    await download.saveAs(saveAs);
    const failure = await download.failure();
    return { label: await link.textContent(), suggested: download.suggestedFilename(), failure };
  },
  // A public link's page in a fresh context (no session, no account): the password first when the
  // link has one, then files picked with the upload form's input and sent; each row reports. arg:
  // JSON {url, files: [paths], password?}.
  async 'link-upload'(browser) {
    const { url, files, password: linkPassword } = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text())); // a CSP refusal shows here
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(url);
    let asked = 0;
    if (linkPassword) {
      asked = await page.locator('input[type=password]').count();
      await page.locator('input[type=password]').fill(linkPassword);
      problems.length = 0; // the question itself came with a 401
      await page.getByRole('button', { name: 'Open' }).click();
    }
    await page.locator('#upload-files').waitFor({ state: 'visible' }); // hidden until the script runs
    const shown = await page.locator('main').innerText();
    await page.locator('#upload-files').setInputFiles(files);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('status').getByText(/files uploaded\.$/).waitFor({ timeout: 60000 });
    const rows = await page.locator('#upload-list li').evaluateAll((items) =>
      items.map((li) => {
        const bar = li.querySelector('progress');
        return { name: li.firstChild.textContent.trim(), state: li.dataset.state, said: li.querySelector('.state').textContent, value: bar.value, max: bar.max };
      }),
    );
    const status = await page.getByRole('status').textContent();
    const cookies = (await context.cookies()).map((c) => ({ name: c.name, path: c.path, httpOnly: c.httpOnly, sameSite: c.sameSite }));
    await context.close();
    return { asked, shown, rows, status, problems, cookies };
  },
  // Administration (signed in as the cloud's admin): a user created into a project with the member
  // role, a project's server quota changed, the audit log read.
  async admin(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
    await page.locator('tr[data-name]').first().waitFor();
    await page.locator('input[name=new-user]').fill('dominique');
    await page.locator('input[name=new-password]').fill('dominique-pass-1');
    await page.locator('select[name=new-project]').selectOption({ label: arg });
    await page.locator('select[name=new-role]').selectOption({ label: 'member' });
    await page.getByRole('button', { name: 'Create the user' }).click();
    const made = await page.getByRole('status').textContent();
    await page.locator('tr[data-name="dominique"]').waitFor();
    const row = page.locator(`tr[data-name="${arg}"]`).last();
    await row.locator('input[name=quota-instances]').fill('3');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Quotas of ${arg} saved.`).waitFor();
    await page.reload();
    await page.locator('table.audit tbody tr').first().waitFor();
    const audit = await page.locator('table.audit tbody tr').allTextContents();
    return { made, audit: audit.slice(0, 10) };
  },
  // The share panel shares a folder with a second user (arg: JSON {folder, file, other, otherPassword}),
  // who signs in in a browser of their own and finds the folder and its file among their files.
  async 'share-user'(browser) {
    const { folder, file, other, otherPassword } = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.locator(`tr[data-name="${folder}"]`).getByRole('button', { name: 'Share' }).click();
    const panel = page.locator('section.share');
    await panel.getByRole('heading', { level: 2 }).waitFor();
    await panel.locator('input[name=share-with]').fill(other);
    await panel.locator('select[name=share-level]').selectOption('15');
    await panel.locator('.people').getByRole('button', { name: 'Share' }).click();
    const row = panel.locator(`li[data-share-with="${other}"]`);
    await row.waitFor();
    const level = await row.locator('select').inputValue();
    await context.close();

    const theirs = await browser.newContext({ locale: 'fr-FR' });
    const second = await theirs.newPage();
    await signIn(second, 'Fichiers', other, otherPassword);
    const shared = second.locator(`tr[data-name="${folder}"]`);
    await shared.waitFor();
    await shared.locator('td:first-child a').first().click();
    await second.locator(`tr[data-name="${file}"]`).waitFor();
    const names = await second.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    await theirs.close();
    return { level, names };
  },
  // A large file (arg) goes up in chunks; the third chunk's first PUT is cut off, so the upload
  // fails; choosing the file again resumes it: only the chunks the server lacks are sent.
  async 'resume-upload'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const puts = [];
    page.on('request', (r) => { if (r.method() === 'PUT' && r.url().includes('/remote.php/dav/uploads/')) puts.push(r.url().split('/').pop()); });
    let cut = false;
    await page.route('**/remote.php/dav/uploads/**/00003', (route) => {
      if (!cut && route.request().method() === 'PUT') { cut = true; return route.abort('connectionreset'); }
      return route.continue();
    });
    await page.locator('[data-testid=upload-files]').setInputFiles(arg);
    await page.locator('.transfers .error').first().waitFor({ timeout: 60000 });
    const first = [...puts];
    puts.length = 0;
    await page.locator('[data-testid=upload-files]').setInputFiles(arg);
    await page.getByText(/^Uploaded 1 files?$/).waitFor({ timeout: 60000 });
    await page.locator(`tr[data-name="${path.basename(arg)}"]`).waitFor();
    return { first, second: [...puts] };
  },
  // A signed-in browser opens an HTML file of the box (arg: its WebDAV path): its script must not
  // run (it would act with the session).
  async 'html-file'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const res = await page.goto(base + arg);
    await page.waitForTimeout(500);
    const title = await page.title();
    const text = await page.locator('body').textContent();
    return { status: res.status(), title, text };
  },
  // Previews (arg: JSON {image, text, pdf} file names at the root): the image drawn, the text
  // shown, the PDF handed to the browser's viewer from a blob.
  async preview(browser) {
    const { image, text, pdf } = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const open = async (name) => {
      await page.locator(`tr[data-name="${name}"]`).getByRole('button', { name: 'Preview' }).click();
      const panel = page.locator('section.preview');
      await panel.getByRole('heading', { name }).waitFor();
      return panel;
    };
    let panel = await open(image);
    await panel.locator('img').waitFor();
    await page.waitForFunction(() => document.querySelector('section.preview img')?.complete);
    const imageSize = await panel.locator('img').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
    panel = await open(text);
    const shown = await panel.locator('pre').textContent();
    panel = await open(pdf);
    await panel.locator('iframe').waitFor();
    const frame = await panel.locator('iframe').getAttribute('src');
    const pdfBytes = Number(await panel.locator('iframe').getAttribute('data-bytes'));
    const others = await page.locator('tr[data-name="archive.bin"]').getByRole('button', { name: 'Preview' }).count();
    return { imageSize, shown, frame: frame.slice(0, 5), pdfBytes, others };
  },
  // Files dropped on the Files page (arg: JSON {name: text}) go up like chosen ones.
  async 'drop-files'(browser) {
    const files = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const zone = page.locator('[data-testid=drop-zone]');
    const dt = await page.evaluateHandle((fs) => {
      const d = new DataTransfer();
      for (const [name, text] of Object.entries(fs)) d.items.add(new File([text], name, { type: 'text/plain' }));
      return d;
    }, files);
    await zone.dispatchEvent('dragover', { dataTransfer: dt });
    const highlighted = await zone.evaluate((m) => m.classList.contains('dropping'));
    await zone.dispatchEvent('drop', { dataTransfer: dt });
    await page.getByText(/^Uploaded \d+ files$/).waitFor({ timeout: 60000 });
    for (const name of Object.keys(files)) await page.locator(`tr[data-name="${name}"]`).waitFor();
    return { highlighted };
  },
  // Copy a file (arg) into a folder "archive", then move it into "archive/2026".
  async 'move-copy'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const act = async (how, into) => {
      await page.locator(`tr[data-name="${arg}"]`).getByRole('button', { name: 'Move or copy' }).click();
      await page.locator('select[name=relocate-how]').selectOption(how);
      await page.locator('input[name=relocate-to]').fill(into);
      await page.locator('form.newfolder').getByRole('button', { name: 'Save' }).click();
    };
    await act('copy', 'archive');
    await page.locator('form.newfolder').waitFor({ state: 'detached' });
    const afterCopy = await page.locator(`tr[data-name="${arg}"]`).count();
    await act('move', 'archive/2026');
    await page.locator(`tr[data-name="${arg}"]`).waitFor({ state: 'detached' });
    return { afterCopy, afterMove: await page.locator(`tr[data-name="${arg}"]`).count() };
  },
  // Collaboration on a file `arg` inside the folder "projects": star it and find it among the
  // Favorites, find it by a search of its name, comment on it and tag it in its side panel, then
  // find it by a search of the tag.
  async collab(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.locator('tr[data-name="projects"]').getByRole('link', { name: 'projects' }).click();
    const row = page.locator(`tr[data-name="${arg}"]`);
    await row.getByRole('button', { name: 'Add to favorites' }).click();
    await row.getByRole('button', { name: 'Remove from favorites' }).waitFor();
    await page.locator('.crumbs').getByText('Home').click();
    await page.locator('tr[data-name="projects"]').waitFor();
    await page.getByRole('button', { name: /Favorites/ }).click();
    const favs = page.getByRole('region', { name: 'Favorites' });
    await favs.locator(`tr[data-name="${arg}"]`).waitFor();
    const favorites = await favs.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name));

    const searchFor = async (term) => {
      await page.getByLabel('Search by name or tag').fill(term);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const region = page.getByRole('region', { name: `Results for "${term}"` });
      await region.locator('tbody tr, p.empty').first().waitFor();
      return region;
    };
    let results = await searchFor(arg.slice(0, 7).toUpperCase());
    const found = await results.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name));
    const where = await results.locator(`tr[data-name="${arg}"] td`).nth(1).textContent();

    await results.locator(`tr[data-name="${arg}"]`).getByRole('button', { name: 'Comments and tags' }).click();
    const panel = page.getByRole('region', { name: `Comments and tags of "${arg}"` });
    await panel.locator('textarea[name=comment]').fill('Looks good to me');
    await panel.getByRole('button', { name: 'Post the comment' }).click();
    await panel.locator('.comments li').first().waitFor();
    const comment = await panel.locator('.comments .message').first().textContent();
    await panel.locator('input[name=tag-name]').fill('release');
    await panel.getByRole('button', { name: 'Add', exact: true }).click();
    await panel.locator('li[data-tag="release"]').waitFor();

    results = await searchFor('relea');
    const byTag = await results.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name));
    return { favorites, found, where, comment, byTag };
  },
  // S3 presigned links (arg: JSON {file, seconds}): a container made, the file uploaded, then two
  // presigned GET links, for an hour and for `seconds` (a custom expiry), signed in the page with a
  // key the page makes (the user has none yet); the short one is read at once from a fresh
  // browser context.
  async presign(browser) {
    const { file, seconds } = JSON.parse(arg);
    const { page, row } = await uploadToNewContainer(browser, 'shared', file);
    const keyChoice = await page.locator('select[name=s3-key]').inputValue();
    await row.getByRole('button', { name: 'S3 presigned link' }).click();
    const link = page.locator('[data-testid=presigned-url]');
    await link.waitFor();
    const hour = await link.getAttribute('href');
    const keyMade = await page.getByText(/^The S3 key \w+ was made/).textContent();
    await page.locator('select[name=temp-lifetime]').selectOption('custom');
    await page.locator('input[name=temp-seconds]').fill(String(seconds));
    await row.getByRole('button', { name: 'S3 presigned link' }).click();
    await page.waitForFunction((old) => document.querySelector('[data-testid=presigned-url]')?.getAttribute('href') !== old, hour);
    const short = await link.getAttribute('href');
    const made = Date.now();
    const stranger = await browser.newContext();
    const got = await stranger.request.get(short);
    const fresh = { status: got.status(), same: Buffer.from(await got.body()).equals(await import('node:fs').then((fs) => fs.readFileSync(file))), ms: Date.now() - made };
    await stranger.close();
    const keyAfter = await page.locator('select[name=s3-key]').inputValue();
    return { keyChoice, keyMade, keyAfter, hour, short, fresh };
  },
  // Administration: the usage of a project (arg: its name) in the projects table.
  async 'admin-usage'(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
    const usage = page.locator(`tr[data-name="${arg}"] [data-testid=usage-storage]`);
    await usage.waitFor();
    const compute = page.locator(`tr[data-name="${arg}"] [data-testid=usage-compute]`);
    await compute.waitFor();
    return { bytes: await usage.getAttribute('data-bytes'), objects: await usage.getAttribute('data-objects'),
             text: await usage.textContent(), compute: await compute.textContent() };
  },
  // Administration: a group made (arg: JSON {group, members: [names], remove: name, drop: name}),
  // the users added one by one, then one of them removed; another group made, then deleted.
  async 'admin-groups'(browser) {
    const { group, members, remove, drop } = JSON.parse(arg);
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await signIn(page, 'Fichiers');
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Groupes' }).waitFor();
    await page.locator('input[name=new-group-name]').fill(group);
    await page.getByRole('button', { name: 'Créer le groupe' }).click();
    const made = await page.getByRole('status').textContent();
    const row = page.locator(`table.groups tr[data-name="${group}"]`);
    await row.waitFor();
    for (const m of members) {
      await row.getByLabel(`Un utilisateur à ajouter à ${group}`).selectOption({ label: m });
      await row.getByRole('button', { name: 'Ajouter' }).click();
      await row.locator(`li[data-member="${m}"]`).waitFor();
    }
    await row.getByRole('button', { name: `Retirer ${remove} de ${group}` }).click();
    await row.locator(`li[data-member="${remove}"]`).waitFor({ state: 'detached' });
    const shown = await row.locator('li[data-member]').evaluateAll((items) => items.map((li) => li.getAttribute('data-member')));
    await page.locator('input[name=new-group-name]').fill(drop);
    await page.getByRole('button', { name: 'Créer le groupe' }).click();
    const dropped = page.locator(`table.groups tr[data-name="${drop}"]`);
    await dropped.getByRole('button', { name: 'Supprimer' }).click();
    await dropped.waitFor({ state: 'detached' });
    const left = await page.locator('table.groups tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    return { made, shown, left };
  },
  // Login Flow v2 in the console (arg: JSON {url, answer: "grant"|"refuse", locale}): the login
  // URL a client got, opened in a fresh browser with no session: sign in, then the client named
  // and the answer given.
  async connect(browser) {
    const { url, answer, locale } = JSON.parse(arg);
    const fr = locale === 'fr-FR';
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy/.test(m.text()) && problems.push(m.text()));
    await page.goto(url);
    const note = await page.locator('[data-testid=login-note]').textContent();
    await page.locator('input[name=username]').fill(user);
    await page.locator('input[name=password]').fill(password);
    await page.locator('button[type=submit]').click();
    const asks = await page.locator('[data-testid=connect-client]').textContent({ timeout: 15000 });
    const landed = new URL(page.url());
    await page.getByRole('button', { name: answer === 'grant' ? (fr ? "Autoriser l'accès" : 'Grant access') : (fr ? 'Refuser' : 'Refuse') }).click();
    const result = await page.locator('[data-testid=connect-result]').textContent();
    await page.reload();
    const afterReload = await page.locator('[data-testid=connect-result]').textContent({ timeout: 15000 });
    await context.close();
    return { note, asks, path: landed.pathname + landed.hash.replace(/[^/]+$/, '<token>'), result, afterReload, problems };
  },
  // Signing out revokes the session: the old cookie opens nothing afterwards.
  async signout(browser) {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'Files');
    const cookie = (await context.cookies()).find((c) => c.name === 'ciel_session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Ciel' }).waitFor();
    const after = (await context.cookies()).find((c) => c.name === 'ciel_session');
    const fresh = await browser.newContext();
    await fresh.addCookies([{ ...cookie }]);
    const replay = await fresh.request.get(base + '/console/v1/session');
    return { cookie_after: after ? after.value : null, replay_status: replay.status(), token: cookie.value };
  },
  // docs/screenshots/: the main pages at a desktop width and the file list on a phone's width
  // (tools/console-screenshots prepares a server with a few files, then runs this).
  async screenshots(browser) {
    const out = arg;
    const shots = [];
    for (const [locale, suffix] of [['en-US', 'en'], ['fr-FR', 'fr']]) {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(base + '/');
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.screenshot({ path: path.join(out, `sign-in-${suffix}.png`) });
      await signIn(page, suffix === 'en' ? 'Files' : 'Fichiers');
      await page.locator('tbody tr').first().waitFor();
      await page.screenshot({ path: path.join(out, `files-${suffix}.png`) });
      shots.push(`sign-in-${suffix}.png`, `files-${suffix}.png`);
      await context.close();
    }
    const desk = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const dp = await desk.newPage();
    await signIn(dp, 'Files');
    for (const [hash, heading, file] of [['#/trash', 'Trash', 'trash-en.png'], ['#/storage', 'Object storage', 'storage-en.png'],
                                         ['#/keys', 'S3 credentials', 's3-keys-en.png'], ['#/compute', 'Servers', 'servers-en.png'],
                                         ['#/activity', 'Activity', 'activity-en.png']]) {
      await dp.goto(base + '/' + hash);
      await dp.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await dp.locator('table.listing, p.empty').first().waitFor();
      await dp.screenshot({ path: path.join(out, file) });
      shots.push(file);
    }
    await desk.close();
    const phone = await browser.newContext({ locale: 'en-US', viewport: { width: 360, height: 740 } });
    const page = await phone.newPage();
    await signIn(page, 'Files');
    await page.locator('tbody tr').first().waitFor();
    await page.screenshot({ path: path.join(out, 'files-phone.png') });
    shots.push('files-phone.png');
    return { shots };
  },
};

let browser;
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const out = await scenarios[scenario](browser);
  console.log(JSON.stringify(out));
  await browser.close();
  process.exit(0);
} catch (err) {
  console.error(`${scenario}: ${err.stack || err}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
