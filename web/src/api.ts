// The console's calls to Ciel. The session is an HttpOnly cookie set by /console/v1/session; the
// page never sees the token. Every call that changes something carries the session's CSRF token
// in X-CSRF-Token, without which the server ignores the cookie.

import { mtimeHeader, putWithProgress } from './put';

export interface Session {
  user: { id: string; name: string; domain: string };
  project: { id: string; name: string } | null;
  projects: { id: string; name: string }[];
  roles: string[];
  csrf: string;
  expires_at: number;
  s3_endpoint: string;
  s3_region: string;
}

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

let csrf = '';

async function errorOf(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const text = await res.text();
    const body = JSON.parse(text);
    message = body?.error?.message ?? body?.message ?? message;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, message);
}

export async function currentSession(): Promise<Session | null> {
  const res = await fetch('/console/v1/session', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  if (!res.ok) throw await errorOf(res);
  const s = (await res.json()) as Session;
  csrf = s.csrf;
  return s;
}

export async function signIn(username: string, password: string, domain: string): Promise<Session> {
  const res = await fetch('/console/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, domain }),
  });
  if (!res.ok) throw await errorOf(res);
  const s = (await res.json()) as Session;
  csrf = s.csrf;
  return s;
}

export async function switchProject(project: string): Promise<Session> {
  const res = await fetch('/console/v1/session', {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ project }),
  });
  if (!res.ok) throw await errorOf(res);
  const s = (await res.json()) as Session;
  csrf = s.csrf;
  return s;
}

export async function signOut(): Promise<void> {
  await fetch('/console/v1/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
  csrf = '';
}

// --- the box over WebDAV ---------------------------------------------------------------------

export interface Entry {
  name: string;
  path: string; // relative to the box's root, no leading slash
  folder: boolean;
  size: number;
  modified: Date;
  etag: string;
  fileid: string;
  favorite: boolean;
}

function encodePath(path: string): string {
  return path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

export function fileUrl(user: string, path: string): string {
  return `/remote.php/dav/files/${encodeURIComponent(user)}/${encodePath(path)}`;
}

const OC = 'http://owncloud.org/ns';
const entryProps = '<d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/><oc:size/><oc:fileid/><oc:favorite/></d:prop>';
const propfindBody = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:oc="${OC}">${entryProps}</d:propfind>`;

export async function list(user: string, path: string): Promise<Entry[]> {
  const res = await fetch(fileUrl(user, path), {
    method: 'PROPFIND',
    credentials: 'same-origin',
    headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body: propfindBody,
  });
  if (res.status !== 207) throw await errorOf(res);
  return parseEntries(user, await res.text(), path.replace(/^\/|\/$/g, ''));
}

// The files the user starred, from anywhere in the box (Nextcloud's REPORT oc:filter-files).
export async function listFavorites(user: string): Promise<Entry[]> {
  const res = await fetch(fileUrl(user, ''), {
    method: 'REPORT',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body: `<?xml version="1.0" encoding="utf-8"?><oc:filter-files xmlns:d="DAV:" xmlns:oc="${OC}">${entryProps}` +
      '<oc:filter-rules><oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>',
  });
  if (res.status !== 207) throw await errorOf(res);
  return parseEntries(user, await res.text(), null);
}

export async function setFavorite(user: string, path: string, on: boolean): Promise<void> {
  const res = await fetch(fileUrl(user, path), {
    method: 'PROPPATCH',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body: `<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:oc="${OC}"><d:set><d:prop><oc:favorite>${on ? 1 : 0}</oc:favorite></d:prop></d:set></d:propertyupdate>`,
  });
  if (res.status !== 207) throw await errorOf(res);
}

// The entries of a multistatus, leaving out `skip` (a listed folder itself).
function parseEntries(user: string, text: string, skip: string | null): Entry[] {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const dav = 'DAV:';
  const prefix = `/remote.php/dav/files/${encodeURIComponent(user)}/`;
  const out: Entry[] = [];
  for (const r of Array.from(doc.getElementsByTagNameNS(dav, 'response'))) {
    const href = r.getElementsByTagNameNS(dav, 'href')[0]?.textContent ?? '';
    const rel = decodeURIComponent(href.startsWith(prefix) ? href.slice(prefix.length) : href).replace(/\/$/, '');
    if (rel === skip) continue; // the folder itself
    const folder = r.getElementsByTagNameNS(dav, 'collection').length > 0;
    const len = r.getElementsByTagNameNS(dav, 'getcontentlength')[0]?.textContent;
    const ocSize = r.getElementsByTagNameNS('http://owncloud.org/ns', 'size')[0]?.textContent;
    const modified = r.getElementsByTagNameNS(dav, 'getlastmodified')[0]?.textContent ?? '';
    out.push({
      name: rel.split('/').pop() ?? rel,
      path: rel,
      folder,
      size: Number(len ?? ocSize ?? 0),
      modified: new Date(modified),
      etag: r.getElementsByTagNameNS(dav, 'getetag')[0]?.textContent ?? '',
      fileid: r.getElementsByTagNameNS(OC, 'fileid')[0]?.textContent ?? '',
      favorite: r.getElementsByTagNameNS(OC, 'favorite')[0]?.textContent === '1',
    });
  }
  out.sort((a, b) => (a.folder === b.folder ? a.name.localeCompare(b.name) : a.folder ? -1 : 1));
  return out;
}

async function davCall(method: string, url: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, { method, credentials: 'same-origin', headers: { ...headers, 'X-CSRF-Token': csrf } });
  if (!res.ok) throw await errorOf(res);
}

export function makeFolder(user: string, path: string): Promise<void> {
  return davCall('MKCOL', fileUrl(user, path));
}

export function remove(user: string, path: string): Promise<void> {
  return davCall('DELETE', fileUrl(user, path));
}

// Files up to CHUNKED_FROM go up in one PUT; larger ones in CHUNK pieces through Nextcloud's
// chunked upload (/remote.php/dav/uploads/<user>/<transfer>/, then a MOVE of .file), so that an
// upload that fails part way resumes: the transfer is remembered (localStorage) for that file
// (path, size, modification time), and the chunks the server already holds are not sent again.
export const CHUNK = 8 * 1024 * 1024;
const CHUNKED_FROM = 2 * CHUNK;

export async function upload(user: string, path: string, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  if (file.size > CHUNKED_FROM) return uploadChunked(user, path, file, onProgress);
  const r = await putWithProgress(fileUrl(user, path), file, { 'X-CSRF-Token': csrf, ...mtimeHeader(file) }, onProgress);
  if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.statusText);
}

// The chunks a transfer already holds, by name: their sizes; null when the transfer is gone.
async function chunksOf(url: string): Promise<Map<string, number> | null> {
  const res = await fetch(url, {
    method: 'PROPFIND', credentials: 'same-origin',
    headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getcontentlength/></d:prop></d:propfind>',
  });
  if (res.status === 404) return null;
  if (res.status !== 207) throw await errorOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const out = new Map<string, number>();
  for (const r of Array.from(doc.getElementsByTagNameNS('DAV:', 'response'))) {
    const href = decodeURIComponent(r.getElementsByTagNameNS('DAV:', 'href')[0]?.textContent ?? '').replace(/\/$/, '');
    const len = r.getElementsByTagNameNS('DAV:', 'getcontentlength')[0]?.textContent;
    if (len != null) out.set(href.split('/').pop() ?? '', Number(len));
  }
  return out;
}

async function uploadChunked(user: string, path: string, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  const key = `ciel.upload:${user}:${path}:${file.size}:${file instanceof File ? file.lastModified : 0}`;
  const base = `/remote.php/dav/uploads/${encodeURIComponent(user)}/`;
  const total = { 'OC-Total-Length': String(file.size) };
  let transfer = localStorage.getItem(key);
  let have: Map<string, number> | null = null;
  if (transfer) have = await chunksOf(base + encodeURIComponent(transfer));
  if (!transfer || !have) {
    transfer = 'web-' + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
    await davCall('MKCOL', base + encodeURIComponent(transfer), total);
    localStorage.setItem(key, transfer);
    have = new Map();
  }
  const dir = base + encodeURIComponent(transfer) + '/';
  let sent = 0;
  for (let i = 0, off = 0; off < file.size; i += 1, off += CHUNK) {
    const name = String(i + 1).padStart(5, '0');
    const size = Math.min(CHUNK, file.size - off);
    if (have.get(name) !== size) {
      const r = await putWithProgress(dir + name, file.slice(off, off + size), { 'X-CSRF-Token': csrf, ...total }, (n) => onProgress(sent + n));
      if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.statusText);
    }
    sent += size;
    onProgress(sent);
  }
  await davCall('MOVE', dir + '.file', { Destination: location.origin + fileUrl(user, path), ...total, ...mtimeHeader(file) });
  localStorage.removeItem(key);
}

// Rename or move within the box (WebDAV MOVE; the file keeps its id, so sync clients do not
// download it again).
export function move(user: string, from: string, to: string): Promise<void> {
  return davCall('MOVE', fileUrl(user, from), { Destination: location.origin + fileUrl(user, to), Overwrite: 'F' });
}

export function copy(user: string, from: string, to: string): Promise<void> {
  return davCall('COPY', fileUrl(user, from), { Destination: location.origin + fileUrl(user, to), Overwrite: 'F', Depth: 'infinity' });
}

export interface TrashItem {
  id: string; // the item's name in the trash collection
  name: string;
  original: string;
  deleted: Date;
  folder: boolean;
}

function trashUrl(user: string, item = ''): string {
  return `/remote.php/dav/trashbin/${encodeURIComponent(user)}/trash/${item ? encodeURIComponent(item) : ''}`;
}

export async function listTrash(user: string): Promise<TrashItem[]> {
  const nc = 'http://nextcloud.org/ns';
  const res = await fetch(trashUrl(user), {
    method: 'PROPFIND',
    credentials: 'same-origin',
    headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body:
      '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:nc="http://nextcloud.org/ns"><d:prop><d:resourcetype/>' +
      '<nc:trashbin-filename/><nc:trashbin-original-location/><nc:trashbin-deletion-time/></d:prop></d:propfind>',
  });
  if (res.status !== 207) throw await errorOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const out: TrashItem[] = [];
  for (const r of Array.from(doc.getElementsByTagNameNS('DAV:', 'response'))) {
    const href = decodeURIComponent(r.getElementsByTagNameNS('DAV:', 'href')[0]?.textContent ?? '').replace(/\/$/, '');
    const name = r.getElementsByTagNameNS(nc, 'trashbin-filename')[0]?.textContent;
    if (!name) continue; // the trash collection itself
    out.push({
      id: href.split('/').pop() ?? '',
      name,
      original: r.getElementsByTagNameNS(nc, 'trashbin-original-location')[0]?.textContent ?? name,
      deleted: new Date(Number(r.getElementsByTagNameNS(nc, 'trashbin-deletion-time')[0]?.textContent ?? 0) * 1000),
      folder: r.getElementsByTagNameNS('DAV:', 'collection').length > 0,
    });
  }
  out.sort((a, b) => b.deleted.getTime() - a.deleted.getTime());
  return out;
}

export function restore(user: string, item: TrashItem): Promise<void> {
  const dest = `${location.origin}/remote.php/dav/trashbin/${encodeURIComponent(user)}/restore/${encodeURIComponent(item.name)}`;
  return davCall('MOVE', trashUrl(user, item.id), { Destination: dest });
}

export function purge(user: string, item: TrashItem): Promise<void> {
  return davCall('DELETE', trashUrl(user, item.id));
}

// --- object storage (Swift API) -------------------------------------------------------------

export interface Container {
  name: string;
  count: number;
  bytes: number;
}

export interface StoredObject {
  name: string; // the full key
  bytes: number;
  modified: Date;
  prefix: boolean; // a "folder" of the listing (a common prefix)
}

function storageUrl(project: string, container = '', key = ''): string {
  let u = `/v1/AUTH_${encodeURIComponent(project)}`;
  if (container) u += `/${encodeURIComponent(container)}`;
  if (key) u += `/${key.split('/').map(encodeURIComponent).join('/')}`;
  return u;
}

export function objectUrl(project: string, container: string, key: string): string {
  return storageUrl(project, container, key);
}

async function swift(method: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(url, { method, credentials: 'same-origin', headers: { ...headers, 'X-CSRF-Token': csrf } });
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function listContainers(project: string): Promise<Container[]> {
  const res = await swift('GET', `${storageUrl(project)}?format=json`);
  const rows = (await res.json()) as { name: string; count: number; bytes: number }[];
  return rows.map((r) => ({ name: r.name, count: r.count, bytes: r.bytes }));
}

export async function createContainer(project: string, name: string): Promise<void> {
  await swift('PUT', storageUrl(project, name));
}

export async function deleteContainer(project: string, name: string): Promise<void> {
  await swift('DELETE', storageUrl(project, name));
}

// Public: anyone may read the objects and list the container (.r:*,.rlistings); private: only
// the project.
export async function setPublic(project: string, name: string, pub: boolean): Promise<void> {
  await swift('POST', storageUrl(project, name), pub ? { 'X-Container-Read': '.r:*,.rlistings' } : { 'X-Remove-Container-Read': 'x' });
}

export async function isPublic(project: string, name: string): Promise<boolean> {
  const res = await swift('HEAD', storageUrl(project, name));
  return (res.headers.get('X-Container-Read') ?? '').includes('.r:*');
}

export async function listObjects(project: string, container: string, prefix: string): Promise<StoredObject[]> {
  const q = new URLSearchParams({ format: 'json', delimiter: '/', prefix });
  const res = await swift('GET', `${storageUrl(project, container)}?${q}`);
  const rows = (await res.json()) as ({ subdir: string } | { name: string; bytes: number; last_modified: string })[];
  return rows.map((r) =>
    'subdir' in r
      ? { name: r.subdir, bytes: 0, modified: new Date(NaN), prefix: true }
      : { name: r.name, bytes: r.bytes, modified: new Date(r.last_modified + 'Z'), prefix: false },
  );
}

export async function deleteObject(project: string, container: string, key: string): Promise<void> {
  await swift('DELETE', storageUrl(project, container, key));
}

export async function uploadObject(project: string, container: string, key: string, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  const headers: Record<string, string> = { 'X-CSRF-Token': csrf };
  if (file.type) headers['Content-Type'] = file.type;
  const r = await putWithProgress(storageUrl(project, container, key), file, headers, onProgress);
  if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.statusText);
}

// --- S3 credentials (identity's EC2 credentials of the signed-in user) -----------------------

export interface S3Credential {
  access: string;
  secret?: string; // only right after creation
  project: string;
}

export async function listS3Credentials(userId: string): Promise<S3Credential[]> {
  const res = await swift('GET', `/v3/users/${encodeURIComponent(userId)}/credentials/OS-EC2`);
  const body = (await res.json()) as { credentials: { access: string; tenant_id: string }[] };
  return body.credentials.map((c) => ({ access: c.access, project: c.tenant_id }));
}

export async function createS3Credential(userId: string, project: string): Promise<S3Credential> {
  const res = await fetch(`/v3/users/${encodeURIComponent(userId)}/credentials/OS-EC2`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ tenant_id: project }),
  });
  if (!res.ok) throw await errorOf(res);
  const c = ((await res.json()) as { credential: { access: string; secret: string; tenant_id: string } }).credential;
  return { access: c.access, secret: c.secret, project: c.tenant_id };
}

export async function deleteS3Credential(userId: string, access: string): Promise<void> {
  await swift('DELETE', `/v3/users/${encodeURIComponent(userId)}/credentials/OS-EC2/${encodeURIComponent(access)}`);
}

// --- compute (Nova v2.1, Glance v2) -----------------------------------------------------------

async function jsonCall<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await novaError(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

// Nova's errors are {"badRequest": {"message": ...}} and the like.
async function novaError(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = JSON.parse(await res.text());
    const first = body && typeof body === 'object' ? Object.values(body)[0] : undefined;
    message = (first as { message?: string })?.message ?? body?.message ?? body?.error?.message ?? message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message);
}

export interface Server {
  id: string;
  name: string;
  status: string;
  task: string | null;
  image: string;
  flavor: string;
  ssh: string;
  fault: string;
}

export async function listServers(): Promise<Server[]> {
  const body = await jsonCall<{ servers: Record<string, any>[] }>('GET', '/compute/v2.1/servers/detail');
  return body.servers.map((s) => ({
    id: s.id,
    name: s.name,
    status: s.status,
    task: s['OS-EXT-STS:task_state'] ?? null,
    image: s.image?.id ?? '',
    flavor: s.flavor?.id ?? '',
    ssh: s.metadata?.['ciel:ssh'] ?? '',
    fault: s.fault?.message ?? '',
  }));
}

export interface Choice { id: string; name: string }

export async function listImages(): Promise<(Choice & { status: string; size: number })[]> {
  const body = await jsonCall<{ images: Record<string, any>[] }>('GET', '/image/v2/images');
  return body.images.map((i) => ({ id: i.id, name: i.name ?? i.id, status: i.status, size: i.size ?? 0 }));
}

export async function listFlavors(): Promise<(Choice & { vcpus: number; ram: number; disk: number })[]> {
  const body = await jsonCall<{ flavors: Record<string, any>[] }>('GET', '/compute/v2.1/flavors/detail');
  return body.flavors.map((f) => ({ id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk }));
}

export async function listKeypairs(): Promise<{ name: string; fingerprint: string }[]> {
  const body = await jsonCall<{ keypairs: { keypair: { name: string; fingerprint: string } }[] }>('GET', '/compute/v2.1/os-keypairs');
  return body.keypairs.map((k) => k.keypair);
}

// Without a public key the server makes the pair and returns the private key, this once.
export async function createKeypair(name: string, publicKey?: string): Promise<{ name: string; private_key?: string }> {
  const body = await jsonCall<{ keypair: { name: string; private_key?: string } }>('POST', '/compute/v2.1/os-keypairs', {
    keypair: publicKey ? { name, public_key: publicKey } : { name },
  });
  return body.keypair;
}

export async function deleteKeypair(name: string): Promise<void> {
  await jsonCall('DELETE', `/compute/v2.1/os-keypairs/${encodeURIComponent(name)}`);
}

export async function launch(req: { name: string; image: string; flavor: string; key: string; userData: string }): Promise<string> {
  const server: Record<string, unknown> = { name: req.name, imageRef: req.image, flavorRef: req.flavor, networks: 'auto' };
  if (req.key) server.key_name = req.key;
  if (req.userData) server.user_data = btoa(String.fromCharCode(...new TextEncoder().encode(req.userData)));
  const body = await jsonCall<{ server: { id: string } }>('POST', '/compute/v2.1/servers', { server });
  return body.server.id;
}

export async function serverAction(id: string, action: 'start' | 'stop' | 'reboot' | 'delete'): Promise<void> {
  if (action === 'delete') {
    await jsonCall('DELETE', `/compute/v2.1/servers/${id}`);
    return;
  }
  const body = action === 'start' ? { 'os-start': null } : action === 'stop' ? { 'os-stop': null } : { reboot: { type: 'SOFT' } };
  await jsonCall('POST', `/compute/v2.1/servers/${id}/action`, body);
}

export async function consoleLog(id: string, lines = 200): Promise<string> {
  const body = await jsonCall<{ output: string }>('POST', `/compute/v2.1/servers/${id}/action`, { 'os-getConsoleOutput': { length: lines } });
  return body.output;
}

// A new image: the record, then its bytes with progress (Glance v2's two steps).
export async function uploadImage(name: string, format: string, file: File, onProgress: (sent: number) => void): Promise<string> {
  const image = await jsonCall<{ id: string }>('POST', '/image/v2/images', { name, disk_format: format, container_format: 'bare' });
  await new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/image/v2/images/${image.id}/file`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, xhr.responseText || `HTTP ${xhr.status}`)));
    xhr.onerror = () => reject(new ApiError(0, 'network error'));
    xhr.send(file);
  });
  return image.id;
}

// --- app passwords (for sync clients) ---------------------------------------------------------

export interface AppPassword {
  id: string;
  name: string;
  created: Date;
  password?: string; // only right after creation
  login?: string;
}

export async function listAppPasswords(): Promise<AppPassword[]> {
  const body = await jsonCall<{ app_passwords: { id: string; name: string; created: number }[] }>('GET', '/box/v1/app-passwords');
  return body.app_passwords.map((a) => ({ id: a.id, name: a.name, created: new Date(a.created * 1000) }));
}

export async function createAppPassword(name: string): Promise<AppPassword> {
  const a = await jsonCall<{ id: string; name: string; created: number; password: string; login_name: string }>('POST', '/box/v1/app-passwords', { name });
  return { id: a.id, name: a.name, created: new Date(a.created * 1000), password: a.password, login: a.login_name };
}

export async function deleteAppPassword(id: string): Promise<void> {
  await jsonCall('DELETE', `/box/v1/app-passwords/${encodeURIComponent(id)}`);
}

// --- versions of a file -------------------------------------------------------------------------

export interface Version {
  id: string;
  size: number;
  modified: Date;
  url: string;
}

export async function listVersions(user: string, fileid: string): Promise<Version[]> {
  const base = `/remote.php/dav/versions/${encodeURIComponent(user)}/versions/${encodeURIComponent(fileid)}`;
  const res = await fetch(base, {
    method: 'PROPFIND',
    credentials: 'same-origin',
    headers: { Depth: '1', 'X-CSRF-Token': csrf },
  });
  if (res.status !== 207) throw await errorOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const out: Version[] = [];
  for (const r of Array.from(doc.getElementsByTagNameNS('DAV:', 'response'))) {
    const href = (r.getElementsByTagNameNS('DAV:', 'href')[0]?.textContent ?? '').replace(/\/$/, '');
    const id = decodeURIComponent(href.split('/').pop() ?? '');
    if (!id || id === fileid) continue; // the collection itself
    out.push({
      id,
      size: Number(r.getElementsByTagNameNS('DAV:', 'getcontentlength')[0]?.textContent ?? 0),
      modified: new Date(r.getElementsByTagNameNS('DAV:', 'getlastmodified')[0]?.textContent ?? ''),
      url: `${base}/${encodeURIComponent(id)}`,
    });
  }
  out.sort((a, b) => b.modified.getTime() - a.modified.getTime());
  return out;
}

export function restoreVersion(user: string, version: Version): Promise<void> {
  return davCall('MOVE', version.url, { Destination: `${location.origin}/remote.php/dav/versions/${encodeURIComponent(user)}/restore/target` });
}

// --- public links (the OCS Share API, shareType 3) ----------------------------------------------

export interface PublicLink {
  id: string;
  url: string;
  token: string;
  permissions: number; // 1 read, 15 read-write, 4 upload only ("file drop")
  expiration: string | null;
  passwordProtected: boolean;
}

const sharesUrl = '/ocs/v2.php/apps/files_sharing/api/v1/shares';

// An OCS call's data and its answer (for headers); 304 (nothing new) gives no data.
async function ocsCall<T>(method: string, url: string, body?: unknown): Promise<{ data: T | undefined; res: Response }> {
  const res = await fetch(url + (url.includes('?') ? '&' : '?') + 'format=json', {
    method,
    credentials: 'same-origin',
    headers: { 'OCS-APIRequest': 'true', 'X-CSRF-Token': csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 304) return { data: undefined, res };
  const text = await res.text();
  let parsed: { ocs?: { meta?: { message?: string }; data?: T } } = {};
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, parsed.ocs?.meta?.message || res.statusText || `HTTP ${res.status}`);
  return { data: parsed.ocs?.data, res };
}

async function ocs<T>(method: string, url: string, body?: unknown): Promise<T> {
  return (await ocsCall<T>(method, url, body)).data as T;
}

function linkOf(d: Record<string, any>): PublicLink {
  return {
    id: String(d.id),
    url: d.url,
    token: d.token,
    permissions: Number(d.permissions),
    expiration: d.expiration || null,
    passwordProtected: Boolean(d.password_protected) || Boolean(d.share_with),
  };
}

export async function listLinks(path: string): Promise<PublicLink[]> {
  const rows = await ocs<Record<string, any>[]>('GET', `${sharesUrl}?path=${encodeURIComponent('/' + path)}`);
  return (rows ?? []).filter((r) => Number(r.share_type) === 3).map(linkOf);
}

export async function createLink(path: string, permissions: number, password: string, expireDate: string): Promise<PublicLink> {
  const body: Record<string, unknown> = { path: '/' + path, shareType: 3, permissions };
  if (password) body.password = password;
  if (expireDate) body.expireDate = expireDate;
  return linkOf(await ocs<Record<string, any>>('POST', sharesUrl, body));
}

// Revokes a link or a share with people (one id space).
export async function deleteShare(id: string): Promise<void> {
  await ocs('DELETE', `${sharesUrl}/${encodeURIComponent(id)}`);
}

// --- search, comments and tags (Nextcloud's unified search, comments and system tags) ------------

export interface Found {
  fileid: string;
  name: string;
  path: string; // relative to the box's root
  folder: boolean;
}

// Files and folders whose name, or one of whose tags, holds `term`.
export async function search(term: string): Promise<Found[]> {
  const seen = new Map<string, Found>();
  for (const provider of ['files', 'systemtags']) {
    const data = await ocs<{ entries: Record<string, any>[] }>('GET', `/ocs/v2.php/search/providers/${provider}/search?limit=50&term=${encodeURIComponent(term)}`);
    for (const e of data?.entries ?? []) {
      const id = String(e.attributes?.fileId ?? '');
      if (id && !seen.has(id)) {
        seen.set(id, { fileid: id, name: e.title, path: String(e.attributes?.path ?? '').replace(/^\//, ''), folder: e.icon === 'icon-folder' });
      }
    }
  }
  return [...seen.values()];
}

export interface Comment {
  id: string;
  author: string;
  message: string;
  created: Date;
}

const commentsUrl = (fileid: string) => `/remote.php/dav/comments/files/${encodeURIComponent(fileid)}`;

export async function listComments(fileid: string): Promise<Comment[]> {
  const res = await fetch(commentsUrl(fileid), {
    method: 'REPORT',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/xml; charset=utf-8', 'X-CSRF-Token': csrf },
    body: `<?xml version="1.0"?><oc:filter-comments xmlns:oc="${OC}"><oc:limit>100</oc:limit><oc:offset>0</oc:offset></oc:filter-comments>`,
  });
  if (res.status !== 207) throw await errorOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const text = (r: Element, name: string) => r.getElementsByTagNameNS(OC, name)[0]?.textContent ?? '';
  return Array.from(doc.getElementsByTagNameNS('DAV:', 'response')).map((r) => ({
    id: text(r, 'id'),
    author: text(r, 'actorId'),
    message: text(r, 'message'),
    created: new Date(text(r, 'creationDateTime')),
  }));
}

export async function addComment(fileid: string, message: string): Promise<void> {
  const res = await fetch(commentsUrl(fileid), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ actorType: 'users', verb: 'comment', message }),
  });
  if (res.status !== 201) throw await davError(res);
}

export function deleteComment(fileid: string, id: string): Promise<void> {
  return davCall('DELETE', `${commentsUrl(fileid)}/${encodeURIComponent(id)}`);
}

export interface Tag {
  id: string;
  name: string;
}

async function tagList(url: string): Promise<Tag[]> {
  const res = await fetch(url, { method: 'PROPFIND', credentials: 'same-origin', headers: { Depth: '1', 'X-CSRF-Token': csrf } });
  if (res.status !== 207) throw await errorOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const out: Tag[] = [];
  for (const r of Array.from(doc.getElementsByTagNameNS('DAV:', 'response'))) {
    const id = r.getElementsByTagNameNS(OC, 'id')[0]?.textContent;
    if (id) out.push({ id, name: r.getElementsByTagNameNS(OC, 'display-name')[0]?.textContent ?? '' });
  }
  return out;
}

const relationsUrl = (fileid: string) => `/remote.php/dav/systemtags-relations/files/${encodeURIComponent(fileid)}`;

export function fileTags(fileid: string): Promise<Tag[]> {
  return tagList(relationsUrl(fileid));
}

// Puts the tag named `name` on the file, making the tag first when the user has none of that name.
export async function tagFile(fileid: string, name: string): Promise<void> {
  let tag = (await tagList('/remote.php/dav/systemtags/')).find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!tag) {
    const res = await fetch('/remote.php/dav/systemtags/', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name, userVisible: true, userAssignable: true }),
    });
    if (res.status !== 201) throw await davError(res);
    tag = { id: (res.headers.get('Content-Location') ?? '').split('/').pop() ?? '', name };
  }
  const res = await fetch(`${relationsUrl(fileid)}/${encodeURIComponent(tag.id)}`, { method: 'PUT', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
  if (res.status !== 201 && res.status !== 409) throw await davError(res); // 409: on the file already
}

export function untagFile(fileid: string, tagid: string): Promise<void> {
  return davCall('DELETE', `${relationsUrl(fileid)}/${encodeURIComponent(tagid)}`);
}

// A WebDAV error's message (Sabre's <s:message>).
async function davError(res: Response): Promise<ApiError> {
  const text = await res.text();
  const m = /<s:message>([^<]*)<\/s:message>/.exec(text);
  return new ApiError(res.status, m ? m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&') : res.statusText || `HTTP ${res.status}`);
}

// --- shares with users and groups (shareType 0 and 1) -------------------------------------------

export interface PeopleShare {
  id: string;
  shareType: 0 | 1; // a user, a group
  shareWith: string;
  permissions: number; // 1 read, 2 update, 4 create, 8 delete, 16 reshare
}

export interface Sharee {
  name: string;
  shareType: 0 | 1;
}

function peopleShareOf(d: Record<string, any>): PeopleShare {
  return { id: String(d.id), shareType: Number(d.share_type) as 0 | 1, shareWith: d.share_with, permissions: Number(d.permissions) };
}

export async function listPeopleShares(path: string): Promise<PeopleShare[]> {
  const rows = await ocs<Record<string, any>[]>('GET', `${sharesUrl}?path=${encodeURIComponent('/' + path)}`);
  return (rows ?? []).filter((r) => Number(r.share_type) === 0 || Number(r.share_type) === 1).map(peopleShareOf);
}

export async function sharePeople(path: string, shareType: 0 | 1, shareWith: string, permissions: number): Promise<PeopleShare> {
  return peopleShareOf(await ocs<Record<string, any>>('POST', sharesUrl, { path: '/' + path, shareType, shareWith, permissions }));
}

export async function updateShare(id: string, permissions: number): Promise<void> {
  await ocs('PUT', `${sharesUrl}/${encodeURIComponent(id)}`, { permissions });
}

// Users who share a project with the caller and the caller's groups, matching `search`.
export async function searchSharees(search: string): Promise<Sharee[]> {
  const d = await ocs<Record<string, any>>('GET', `/ocs/v2.php/apps/files_sharing/api/v1/sharees?search=${encodeURIComponent(search)}&perPage=20`);
  const rows: Record<string, any>[] = [...(d?.exact?.users ?? []), ...(d?.exact?.groups ?? []), ...(d?.users ?? []), ...(d?.groups ?? [])];
  return rows.map((r) => ({ name: String(r.value.shareWith), shareType: Number(r.value.shareType) as 0 | 1 }));
}

// --- activity and notifications (Nextcloud's Activity v2 and Notifications v2 OCS APIs) ----------

export interface Activity {
  id: number;
  kind: string;      // file_created, file_renamed, link_downloaded... (ciel_kind)
  path: string;      // at the time
  oldPath: string;   // renamed or moved: before
  actor: string;     // '' for an anonymous public-link visitor
  self: boolean;     // by the signed-in user
  when: Date;
}

// One page of the stream, newest first: `filter` all, self, by or files_sharing; `since` the
// last id already shown.
export async function listActivity(filter: string, since = 0, limit = 50): Promise<{ items: Activity[]; more: boolean }> {
  const q = `limit=${limit}` + (since ? `&since=${since}` : '');
  const { data, res } = await ocsCall<Record<string, any>[]>('GET', `/ocs/v2.php/apps/activity/api/v2/activity/${filter}?${q}`);
  const items = (data ?? []).map((a) => {
    const files = a.subject_rich?.[1] ?? {};
    return {
      id: Number(a.activity_id),
      kind: String(a.ciel_kind ?? a.type),
      path: String(files.newfile?.path ?? files.file?.path ?? a.object_name ?? ''),
      oldPath: String(files.oldfile?.path ?? ''),
      actor: String(a.user ?? ''),
      self: a.user === a.affecteduser,
      when: new Date(a.datetime),
    };
  });
  return { items, more: /rel="next"/.test(res.headers.get('Link') ?? '') };
}

export interface Notice {
  id: string;
  subject: string;
  message: string;
  when: Date;
}

const notificationsUrl = '/ocs/v2.php/apps/notifications/api/v2/notifications';

export async function listNotifications(): Promise<Notice[]> {
  const rows = await ocs<Record<string, any>[]>('GET', notificationsUrl);
  return (rows ?? []).map((n) => ({ id: String(n.notification_id), subject: n.subject, message: n.message ?? '', when: new Date(n.datetime) }));
}

export async function dismissNotification(id?: string): Promise<void> {
  await ocs('DELETE', id ? `${notificationsUrl}/${encodeURIComponent(id)}` : notificationsUrl);
}

// --- administration (Keystone v3, Nova quotas) --------------------------------------------------

export function adminCall<T = unknown>(method: string, url: string, body?: unknown): Promise<T> {
  return jsonCall<T>(method, url, body);
}

// A TempURL for GET of an object, valid `seconds`: signed in the page with the account's
// Temp-URL-Key (HMAC-SHA256 over "GET\n<expires>\n<path>"), the key made first when the account
// has none. Anyone holding the URL can read the object until it expires.
export async function tempUrl(project: string, container: string, key: string, seconds: number): Promise<string> {
  const account = storageUrl(project);
  const head = await swift('HEAD', account);
  let secret = head.headers.get('X-Account-Meta-Temp-Url-Key') ?? '';
  if (!secret) {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    await swift('POST', account, { 'X-Account-Meta-Temp-URL-Key': secret });
  }
  const path = storageUrl(project, container, key);
  const expires = Math.floor(Date.now() / 1000) + seconds;
  const mac = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  // The signature covers the decoded path, as the server reads it.
  const sig = await crypto.subtle.sign('HMAC', mac, new TextEncoder().encode(`GET\n${expires}\n${decodeURIComponent(path)}`));
  const hex = Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${location.origin}${path}?temp_url_sig=${hex}&temp_url_expires=${expires}`;
}

// An S3 presigned GET URL of an object (Signature Version 4 in the query string, path style),
// valid `seconds`, signed in the page with one of the user's EC2 credentials. Anyone holding it
// can read the object until it expires.
export async function presignedUrl(
  endpoint: string, region: string, cred: { access: string; secret: string }, bucket: string, key: string, seconds: number,
): Promise<string> {
  const enc = new TextEncoder();
  const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
  const hmac = async (k: BufferSource, text: string) =>
    crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), enc.encode(text));
  // S3's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (encodeURIComponent leaves !'()* too).
  const uri = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const base = new URL(endpoint);
  const path = `${base.pathname.replace(/\/$/, '')}/${uri(bucket)}/${key.split('/').map(uri).join('/')}`;
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''); // yyyymmddThhmmssZ
  const day = now.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const query = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${cred.access}/${scope}`],
    ['X-Amz-Date', now],
    ['X-Amz-Expires', String(seconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ].map(([k, v]) => `${uri(k)}=${uri(v)}`).join('&'); // already in order
  const canonical = `GET\n${path}\n${query}\nhost:${base.host}\n\nhost\nUNSIGNED-PAYLOAD`;
  const toSign = `AWS4-HMAC-SHA256\n${now}\n${scope}\n${hex(await crypto.subtle.digest('SHA-256', enc.encode(canonical)))}`;
  let k = await hmac(new Uint8Array(enc.encode('AWS4' + cred.secret)), day);
  for (const part of [region, 's3', 'aws4_request']) k = await hmac(k, part);
  return `${base.origin}${path}?${query}&X-Amz-Signature=${hex(await hmac(k, toSign))}`;
}

// One EC2 credential with its secret (identity returns it to its owner).
export async function getS3Credential(userId: string, access: string): Promise<S3Credential & { secret: string }> {
  const c = (await jsonCall<{ credential: { access: string; secret: string; tenant_id: string } }>(
    'GET', `/v3/users/${encodeURIComponent(userId)}/credentials/OS-EC2/${encodeURIComponent(access)}`)).credential;
  return { access: c.access, secret: c.secret, project: c.tenant_id };
}

// --- Login Flow v2: a sync client asks for an app password --------------------------------------

export async function loginFlowClient(token: string): Promise<string> {
  return (await jsonCall<{ client: string }>('GET', `/box/v1/login-flows/${encodeURIComponent(token)}`)).client;
}

// Grant (the client's next poll gets an app password) or refuse (the flow is gone).
export async function answerLoginFlow(token: string, grant: boolean): Promise<void> {
  await jsonCall(grant ? 'POST' : 'DELETE', `/box/v1/login-flows/${encodeURIComponent(token)}`);
}

// An account's usage (Swift's account HEAD): what the project stores. A project that never
// stored anything has none.
export async function accountUsage(project: string): Promise<{ bytes: number; objects: number; containers: number }> {
  const res = await fetch(storageUrl(project), { method: 'HEAD', credentials: 'same-origin' });
  if (res.status === 404) return { bytes: 0, objects: 0, containers: 0 };
  if (!res.ok) throw new ApiError(res.status, res.statusText || `HTTP ${res.status}`);
  const n = (h: string) => Number(res.headers.get(h) ?? 0);
  return { bytes: n('X-Account-Bytes-Used'), objects: n('X-Account-Object-Count'), containers: n('X-Account-Container-Count') };
}
