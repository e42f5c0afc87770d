// Files: a folder of the user's box with breadcrumbs, upload of files and whole folders with
// per-file and overall progress, new folder, download (a folder as a zip) and delete (to the trash);
// a star on each entry and a Favorites view, a search by name or tag, and a panel of comments and tags.
import { useEffect, useRef, useState } from 'preact/hooks';
import { copy, fileUrl, list, listFavorites, listVersions, makeFolder, move, remove, restoreVersion, search, setFavorite, upload, ApiError, type Entry, type Version } from './api';
import { CollabPanel } from './collab';
import { formatDate, formatSize, t } from './i18n';
import { Preview, previewKind } from './preview';
import { SharePanel } from './share';

interface Transfer {
  name: string;
  size: number;
  sent: number;
  error?: string;
}

function folderFromHash(): string {
  const h = decodeURIComponent(location.hash.replace(/^#\/files\/?/, ''));
  return h.replace(/^\/+|\/+$/g, '');
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

function FolderIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M1.5 3h4l1.5 1.5h7.5v8.5h-13z" fill="currentColor" opacity="0.85" />
    </svg>
  );
}

// Rows are drawn only where the reader looks once a folder is large: a folder of 10,000 entries
// scrolls inside a box of fixed-height rows, of which only the visible ones (and a margin) exist in
// the page; above and below, two spacer rows keep the scroll bar true.
const ROW_PX = 44;
const VIRTUAL_FROM = 300;

function Listing({ entries, row }: { entries: Entry[]; row: (e: Entry) => preact.JSX.Element }) {
  const box = useRef<HTMLDivElement>(null);
  const [range, setRange] = useState<[number, number]>([0, 60]);
  const virtual = entries.length > VIRTUAL_FROM;
  useEffect(() => {
    if (!virtual || !box.current) return;
    const el = box.current;
    let frame = 0;
    const update = () => {
      frame = 0;
      const first = Math.max(0, Math.floor(el.scrollTop / ROW_PX) - 20);
      setRange([first, Math.min(entries.length, first + Math.ceil(el.clientHeight / ROW_PX) + 40)]);
    };
    const onScroll = () => { if (!frame) frame = requestAnimationFrame(update); };
    update();
    el.addEventListener('scroll', onScroll, { passive: true });
    addEventListener('resize', onScroll);
    return () => {
      el.removeEventListener('scroll', onScroll);
      removeEventListener('resize', onScroll);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [virtual, entries.length]);
  const [from, to] = virtual ? range : [0, entries.length];
  const table = (
    <table class={virtual ? 'listing virtual' : 'listing'} aria-rowcount={entries.length + 1}>
      <thead>
        <tr>
          <th scope="col">{t('files.name')}</th>
          <th scope="col">{t('files.size')}</th>
          <th scope="col">{t('files.modified')}</th>
          <th scope="col">{t('files.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {from > 0 && <tr aria-hidden="true" class="spacer" style={{ height: `${from * ROW_PX}px` }} />}
        {entries.slice(from, to).map(row)}
        {to < entries.length && <tr aria-hidden="true" class="spacer" style={{ height: `${(entries.length - to) * ROW_PX}px` }} />}
      </tbody>
    </table>
  );
  return virtual ? <div class="scroller" ref={box} data-testid="scroller">{table}</div> : table;
}

export function Files({ user }: { user: string }) {
  const [folder, setFolder] = useState(folderFromHash());
  // The listing with the folder it is of: a listing of another folder is never shown as this one's.
  const [listing, setListing] = useState<{ folder: string; entries: Entry[] } | null>(null);
  const entries = listing && listing.folder === folder ? listing.entries : null;
  const [error, setError] = useState('');
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [naming, setNaming] = useState(false);
  const [renaming, setRenaming] = useState<Entry | null>(null);
  const [versions, setVersions] = useState<{ entry: Entry; list: Version[] } | null>(null);
  const [sharing, setSharing] = useState<Entry | null>(null);
  const [previewing, setPreviewing] = useState<Entry | null>(null);
  const [dragging, setDragging] = useState(false);
  const [relocating, setRelocating] = useState<Entry | null>(null);
  const [details, setDetails] = useState<{ fileid: string; name: string } | null>(null);
  // Instead of the folder: the favorites or a search's results.
  const [view, setView] = useState<{ title: string; entries: Entry[] | null } | null>(null);
  const [term, setTerm] = useState('');
  const [target, setTarget] = useState('');
  const [how, setHow] = useState<'move' | 'copy'>('move');
  const [renameTo, setRenameTo] = useState('');
  const [newName, setNewName] = useState('');
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onHash = () => { setFolder(folderFromHash()); setView(null); };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  async function refresh() {
    const of = folder;
    try {
      setListing({ folder: of, entries: await list(user, of) });
      setError('');
    } catch (err) {
      setListing({ folder: of, entries: [] });
      setError(t('files.error', (err as Error).message));
    }
  }
  useEffect(() => {
    refresh();
  }, [folder, user]);

  function open(path: string) {
    location.hash = `#/files/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  // Uploads files (a folder upload gives each file's path inside the folder): the folders they
  // go into first, then the files one at a time, each with its own progress bar.
  function send(files: File[]) {
    return sendItems(files.map((f) => ({ file: f, rel: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name })));
  }

  // Files and folders dropped on the page: folders are walked (their files keep their paths
  // inside them), then everything goes up as a folder upload would.
  async function dropped(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    const dt = e.dataTransfer;
    if (!dt) return;
    const entries = Array.from(dt.items ?? []).map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (entries.length === 0) return send(Array.from(dt.files));
    const out: { file: File; rel: string }[] = [];
    const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
      if (entry.isFile) {
        const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
        out.push({ file, rel: prefix + entry.name });
      } else if (entry.isDirectory) {
        const reader = (entry as FileSystemDirectoryEntry).createReader();
        for (;;) {
          const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
          if (batch.length === 0) break;
          for (const child of batch) await walk(child, prefix + entry.name + '/');
        }
      }
    };
    try {
      for (const entry of entries) await walk(entry, '');
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
    return sendItems(out);
  }

  async function sendItems(files: { file: File; rel: string }[]) {
    if (files.length === 0) return;
    const items = files.map((f) => ({ file: f.file, path: join(folder, f.rel) }));
    const list0: Transfer[] = items.map((i) => ({ name: i.path, size: i.file.size, sent: 0 }));
    setTransfers(list0);
    const dirs = new Set<string>();
    for (const i of items) {
      const parts = i.path.split('/');
      for (let k = folder ? folder.split('/').length + 1 : 1; k < parts.length; k++) dirs.add(parts.slice(0, k).join('/'));
    }
    for (const d of [...dirs].sort((a, b) => a.split('/').length - b.split('/').length)) {
      try {
        await makeFolder(user, d);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 405)) throw err; // 405: it exists already
      }
    }
    for (let n = 0; n < items.length; n++) {
      const update = (patch: Partial<Transfer>) => setTransfers((ts) => ts.map((x, k) => (k === n ? { ...x, ...patch } : x)));
      try {
        await upload(user, items[n].path, items[n].file, (sent) => update({ sent }));
        update({ sent: items[n].file.size });
      } catch (err) {
        update({ error: (err as Error).message });
      }
    }
    await refresh();
  }

  async function createFolder(e: Event) {
    e.preventDefault();
    const name = newName.trim();
    if (!name) return;
    try {
      await makeFolder(user, join(folder, name));
      setNaming(false);
      setNewName('');
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  // Move or copy into another folder (a path from the box's root; "" is the root).
  async function relocate(e: Event) {
    e.preventDefault();
    if (!relocating) return;
    const dir = target.trim().replace(/^\/+|\/+$/g, '');
    try {
      await (how === 'move' ? move : copy)(user, relocating.path, join(dir, relocating.name));
      setRelocating(null);
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function rename(e: Event) {
    e.preventDefault();
    const name = renameTo.trim();
    if (!renaming || !name || name === renaming.name) { setRenaming(null); return; }
    try {
      await move(user, renaming.path, join(folder, name));
      setRenaming(null);
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function showVersions(entry: Entry) {
    try {
      setVersions({ entry, list: await listVersions(user, entry.fileid) });
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function restoreOne(v: Version) {
    if (!versions) return;
    try {
      await restoreVersion(user, v);
      await showVersions(versions.entry);
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function star(entry: Entry) {
    try {
      await setFavorite(user, entry.path, !entry.favorite);
      if (view) await showFavorites();
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function showFavorites() {
    setView((v) => ({ title: t('files.favorites'), entries: v?.title === t('files.favorites') ? v.entries : null }));
    try {
      setView({ title: t('files.favorites'), entries: await listFavorites(user) });
    } catch (err) {
      setView(null);
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function find(e: Event) {
    e.preventDefault();
    const q = term.trim();
    if (!q) return;
    const title = t('files.searchResults', q);
    setView({ title, entries: null });
    try {
      const found = await search(q);
      setView({ title, entries: found.map((f) => ({ ...f, size: 0, modified: new Date(NaN), etag: '', favorite: false })) });
    } catch (err) {
      setView(null);
      setError(t('error.generic', (err as Error).message));
    }
  }

  function parentOf(path: string): string {
    return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  }

  async function del(entry: Entry) {
    if (!confirm(t('files.deleteConfirm', entry.name))) return;
    try {
      await remove(user, entry.path);
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  const crumbs = folder ? folder.split('/') : [];
  const total = transfers.reduce((a, x) => a + x.size, 0);
  const sent = transfers.reduce((a, x) => a + x.sent, 0);
  const finished = transfers.filter((x) => x.sent >= x.size && !x.error).length;

  return (
    <main class={dragging ? 'files dropping' : 'files'} data-testid="drop-zone"
      onDragOver={(e) => { e.preventDefault(); if (!dragging) setDragging(true); }}
      onDragLeave={(e) => { if (e.target === e.currentTarget) setDragging(false); }}
      onDrop={dropped}>
      <h1>{t('files.title')}</h1>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href="#/files">{t('files.home')}</a>
        {crumbs.map((c, i) => (
          <span key={i}> / <a href={`#/files/${crumbs.slice(0, i + 1).map(encodeURIComponent).join('/')}`}>{c}</a></span>
        ))}
      </nav>
      <div class="toolbar">
        <button type="button" onClick={() => filesInput.current?.click()}>{t('files.upload')}</button>
        <button type="button" onClick={() => folderInput.current?.click()}>{t('files.uploadFolder')}</button>
        <button type="button" onClick={() => setNaming(true)}>{t('files.newFolder')}</button>
        <span class="hint">{t('files.dropHint')}</span>
        <input ref={filesInput} type="file" multiple hidden data-testid="upload-files"
          onChange={(e) => { const el = e.target as HTMLInputElement; send(Array.from(el.files ?? [])); el.value = ''; }} />
        <input ref={folderInput} type="file" multiple hidden data-testid="upload-folder" {...{ webkitdirectory: true }}
          onChange={(e) => { const el = e.target as HTMLInputElement; send(Array.from(el.files ?? [])); el.value = ''; }} />
        <button type="button" onClick={showFavorites}>★ {t('files.favorites')}</button>
        <form class="search" role="search" onSubmit={find}>
          <label>{t('files.search')}
            <input type="search" name="search" value={term} onInput={(e) => setTerm((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{t('files.searchButton')}</button>
        </form>
      </div>
      {naming && (
        <form class="newfolder" onSubmit={createFolder}>
          <label>
            {t('files.newFolderName')}
            <input autoFocus value={newName} onInput={(e) => setNewName((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{t('files.create')}</button>
          <button type="button" onClick={() => setNaming(false)}>{t('files.cancel')}</button>
        </form>
      )}
      {renaming && (
        <form class="newfolder" onSubmit={rename}>
          <label>
            {t('files.renameTo', renaming.name)}
            <input autoFocus name="rename" value={renameTo} onInput={(e) => setRenameTo((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{t('files.save')}</button>
          <button type="button" onClick={() => setRenaming(null)}>{t('files.cancel')}</button>
        </form>
      )}
      {relocating && (
        <form class="newfolder" onSubmit={relocate}>
          <label>
            {t('files.moveWhat', relocating.name)}
            <select name="relocate-how" value={how} onChange={(e) => setHow((e.target as HTMLSelectElement).value as 'move' | 'copy')}>
              <option value="move">{t('files.move')}</option>
              <option value="copy">{t('files.copy')}</option>
            </select>
          </label>
          <label>
            {t('files.into')}
            <input name="relocate-to" value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{t('files.save')}</button>
          <button type="button" onClick={() => setRelocating(null)}>{t('files.cancel')}</button>
        </form>
      )}
      {previewing && <Preview user={user} entry={previewing} onClose={() => setPreviewing(null)} />}
      {sharing && <SharePanel entry={sharing} onClose={() => setSharing(null)} />}
      {details && <CollabPanel user={user} fileid={details.fileid} name={details.name} onClose={() => setDetails(null)} />}
      {versions && (
        <section class="versions" aria-label={t('versions.of', versions.entry.name)}>
          <h2>{t('versions.of', versions.entry.name)}</h2>
          {versions.list.length === 0 ? (
            <p class="empty">{t('versions.none')}</p>
          ) : (
            <table class="listing">
              <tbody>
                {versions.list.map((v) => (
                  <tr key={v.id} data-name={v.id}>
                    <td>{formatDate(v.modified)}</td>
                    <td>{formatSize(v.size)}</td>
                    <td class="actions">
                      <a href={v.url} download={versions.entry.name}>{t('files.download')}</a>
                      <button type="button" onClick={() => restoreOne(v)}>{t('versions.restore')}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <button type="button" onClick={() => setVersions(null)}>{t('compute.close')}</button>
        </section>
      )}
      {transfers.length > 0 && (
        <section class="transfers" aria-live="polite">
          <p>{finished < transfers.length ? t('upload.progress', finished, transfers.length) : t('upload.done', finished)}</p>
          <label>
            {t('upload.overall')}
            <progress data-testid="overall-progress" max={total || 1} value={sent} />
          </label>
          <ul>
            {transfers.map((x) => (
              <li key={x.name}>
                <span>{x.name}</span>
                <progress max={x.size || 1} value={x.size ? x.sent : 1} />
                {x.error && <span class="error" role="alert">{t('upload.failed', x.name, x.error)}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {view ? (
        <section class="results" aria-label={view.title}>
          <h2>{view.title}</h2>
          <button type="button" onClick={() => setView(null)}>{t('files.back')}</button>
          {view.entries === null ? <p aria-busy="true">{t('files.loading')}</p> : view.entries.length === 0 ? (
            <p class="empty">{view.title === t('files.favorites') ? t('files.favoritesNone') : t('files.searchNone')}</p>
          ) : (
            <table class="listing">
              <tbody>
                {view.entries.map((e) => (
                  <tr key={e.fileid} data-name={e.name}>
                    <td>
                      <a href={`#/files/${(e.folder ? e.path : parentOf(e.path)).split('/').map(encodeURIComponent).join('/')}`}>
                        {e.folder && <FolderIcon />}{e.name}
                      </a>
                    </td>
                    <td>{t('files.in', '/' + parentOf(e.path))}</td>
                    <td class="actions">
                      {e.favorite && <button type="button" class="star" aria-pressed="true" aria-label={t('files.unfavorite')} onClick={() => star(e)}>★</button>}
                      <button type="button" onClick={() => setDetails({ fileid: e.fileid, name: e.name })}>{t('files.details')}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ) : entries === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : entries.length === 0 ? (
        <p class="empty">{t('files.empty')}</p>
      ) : (
        <Listing entries={entries} row={(e) => (
        <tr key={e.path} data-name={e.name}>
          <td>
            {e.folder ? (
              <a href={`#/files/${e.path.split('/').map(encodeURIComponent).join('/')}`} onClick={(ev) => { ev.preventDefault(); open(e.path); }}>
                <FolderIcon />{e.name}
              </a>
            ) : (
              <span>{e.name}</span>
            )}
          </td>
          <td>{e.folder ? t('files.folder') : formatSize(e.size)}</td>
          <td>{Number.isNaN(e.modified.getTime()) ? '' : formatDate(e.modified)}</td>
          <td class="actions">
            <button type="button" class="star" aria-pressed={e.favorite ? 'true' : 'false'} aria-label={t(e.favorite ? 'files.unfavorite' : 'files.favorite')}
              title={t(e.favorite ? 'files.unfavorite' : 'files.favorite')} onClick={() => star(e)}>{e.favorite ? '★' : '☆'}</button>
            {e.folder ? (
              <a href={`${fileUrl(user, e.path)}?accept=zip`} download={`${e.name}.zip`} data-testid="download-zip">{t('files.downloadZip')}</a>
            ) : (
              <a href={fileUrl(user, e.path)} download={e.name}>{t('files.download')}</a>
            )}
            <button type="button" onClick={() => { setRenaming(e); setRenameTo(e.name); }}>{t('files.rename')}</button>
            <button type="button" onClick={() => { setRelocating(e); setTarget(folder); setHow('move'); }}>{t('files.moveCopy')}</button>
            {previewKind(e) && <button type="button" onClick={() => setPreviewing(e)}>{t('preview.open')}</button>}
            {!e.folder && <button type="button" onClick={() => showVersions(e)}>{t('versions.button')}</button>}
            <button type="button" onClick={() => setSharing(e)}>{t('share.button')}</button>
            <button type="button" onClick={() => setDetails({ fileid: e.fileid, name: e.name })}>{t('files.details')}</button>
            <button type="button" onClick={() => del(e)}>{t('files.delete')}</button>
          </td>
        </tr>
        )} />
      )}
    </main>
  );
}
