// Object storage: the project's containers with their usage, and a container's objects by
// prefix, with upload (progress per object), download, delete and a public/private switch, and
// links that read an object without credentials: a Swift TempURL or an S3 presigned URL.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  createContainer, createS3Credential, deleteContainer, deleteObject, getS3Credential, isPublic, listContainers, listObjects, listS3Credentials,
  objectUrl, presignedUrl, setPublic, tempUrl, uploadObject, type Container, type S3Credential, type StoredObject,
} from './api';
import { formatDate, formatSize, t } from './i18n';
import { useLoad } from './useload';

// What an S3 presigned URL needs: the user (whose EC2 credentials sign it), the S3 endpoint
// ('' when S3 is off) and its region.
export interface S3Target { user: string; endpoint: string; region: string }

export function Storage({ project, route, s3 }: { project: string; route: string; s3: S3Target }) {
  // route: "" (the containers) or "<container>/<prefix>"
  const slash = route.indexOf('/');
  const container = slash < 0 ? route : route.slice(0, slash);
  const prefix = slash < 0 ? '' : route.slice(slash + 1);
  return container ? <Objects project={project} container={container} prefix={prefix} s3={s3} /> : <Containers project={project} />;
}

function go(container: string, prefix = '') {
  location.hash = `#/storage/${encodeURIComponent(container)}/${prefix.split('/').map(encodeURIComponent).join('/')}`;
}

function Containers({ project }: { project: string }) {
  const { items: rows, error, run } = useLoad(async () => {
    const cs = await listContainers(project);
    return Promise.all(cs.map(async (c): Promise<Container & { pub: boolean }> => ({ ...c, pub: await isPublic(project, c.name) })));
  }, [project]);
  const [name, setName] = useState('');

  return (
    <main class="storage">
      <h1>{t('storage.title')}</h1>
      <form class="newfolder" onSubmit={(e) => { e.preventDefault(); const n = name.trim(); if (n) run(async () => { await createContainer(project, n); setName(''); }); }}>
        <label>
          {t('storage.newName')}
          <input name="container" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('storage.create')}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {rows === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{t('storage.none')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('storage.container')}</th>
              <th scope="col">{t('storage.objects')}</th>
              <th scope="col">{t('storage.usage')}</th>
              <th scope="col">{t('storage.public')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.name} data-name={c.name}>
                <td><a href={`#/storage/${encodeURIComponent(c.name)}/`}>{c.name}</a></td>
                <td>{c.count}</td>
                <td>{formatSize(c.bytes)}</td>
                <td>
                  <input type="checkbox" checked={c.pub} aria-label={`${t('storage.public')}: ${c.name}`}
                    onChange={(e) => run(() => setPublic(project, c.name, (e.target as HTMLInputElement).checked))} />
                </td>
                <td class="actions">
                  <button type="button" onClick={() => { if (confirm(t('storage.deleteConfirm', c.name))) run(() => deleteContainer(project, c.name)); }}>
                    {t('storage.deleteContainer')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function Objects({ project, container, prefix, s3 }: { project: string; container: string; prefix: string; s3: S3Target }) {
  const [rows, setRows] = useState<StoredObject[] | null>(null);
  const [error, setError] = useState('');
  const [progress, setProgress] = useState<{ name: string; size: number; sent: number }[]>([]);
  const [temp, setTemp] = useState<{ name: string; url: string; s3: boolean } | null>(null);
  const [lifetime, setLifetime] = useState('3600');
  const [seconds, setSeconds] = useState('60');
  const [keys, setKeys] = useState<S3Credential[]>([]);
  const [key, setKey] = useState('');
  const [keyMade, setKeyMade] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const life = () => (lifetime === 'custom' ? Math.max(1, Math.floor(Number(seconds) || 1)) : Number(lifetime));

  useEffect(() => {
    if (!s3.endpoint) return;
    listS3Credentials(s3.user).then((all) => {
      const mine = all.filter((k) => k.project === project);
      setKeys(mine);
      setKey((k) => k || mine[0]?.access || '');
    }, () => setKeys([]));
  }, [s3.user, project]);

  // Signed with the chosen key, or with a key made now when the user has none for this project.
  async function presign(name: string): Promise<string> {
    let access = key;
    if (!access) {
      const made = await createS3Credential(s3.user, project);
      access = made.access;
      setKeys((ks) => [...ks, made]);
      setKey(access);
      setKeyMade(access);
    }
    const cred = await getS3Credential(s3.user, access);
    return presignedUrl(s3.endpoint, s3.region, cred, container, name, life());
  }

  // Only the latest listing is shown: the page's first one answering after the one that follows
  // an upload must not put back the list without the new object.
  const latest = useRef(0);
  async function refresh() {
    const mine = ++latest.current;
    try {
      const rows = await listObjects(project, container, prefix);
      if (mine === latest.current) setRows(rows);
    } catch (err) {
      if (mine !== latest.current) return;
      setRows([]);
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { setRows(null); refresh(); }, [project, container, prefix]);

  async function send(files: File[]) {
    setProgress(files.map((f) => ({ name: f.name, size: f.size, sent: 0 })));
    for (let n = 0; n < files.length; n++) {
      try {
        await uploadObject(project, container, prefix + files[n].name, files[n], (sent) =>
          setProgress((ps) => ps.map((p, k) => (k === n ? { ...p, sent } : p))));
        setProgress((ps) => ps.map((p, k) => (k === n ? { ...p, sent: p.size } : p)));
      } catch (err) {
        setError(t('upload.failed', files[n].name, (err as Error).message));
      }
    }
    await refresh();
  }

  const parts = prefix.split('/').filter(Boolean);
  return (
    <main class="storage">
      <h1>{container}</h1>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href="#/storage">{t('storage.title')}</a> / <a href={`#/storage/${encodeURIComponent(container)}/`}>{container}</a>
        {parts.map((p, i) => (
          <span key={i}> / <a href={`#/storage/${encodeURIComponent(container)}/${parts.slice(0, i + 1).map(encodeURIComponent).join('/')}/`}>{p}</a></span>
        ))}
      </nav>
      <div class="toolbar">
        <button type="button" onClick={() => input.current?.click()}>{t('storage.upload')}</button>
        <input ref={input} type="file" multiple hidden data-testid="upload-objects"
          onChange={(e) => { const el = e.target as HTMLInputElement; send(Array.from(el.files ?? [])); el.value = ''; }} />
      </div>
      {progress.length > 0 && (
        <ul class="transfers" aria-live="polite">
          {progress.map((p) => (
            <li key={p.name}><span>{p.name}</span><progress max={p.size || 1} value={p.size ? p.sent : 1} /></li>
          ))}
        </ul>
      )}
      <label class="lifetime">{t('storage.tempFor')}
        <select name="temp-lifetime" value={lifetime} onChange={(e) => setLifetime((e.target as HTMLSelectElement).value)}>
          <option value="3600">{t('storage.hour')}</option>
          <option value="86400">{t('storage.day')}</option>
          <option value="604800">{t('storage.week')}</option>
          <option value="custom">{t('storage.seconds')}</option>
        </select>
      </label>
      {lifetime === 'custom' && (
        <label class="lifetime">{t('storage.secondsLabel')}
          <input type="number" name="temp-seconds" min={1} max={604800} value={seconds} onInput={(e) => setSeconds((e.target as HTMLInputElement).value)} />
        </label>
      )}
      {s3.endpoint && (
        <label class="lifetime">{t('storage.s3Key')}
          <select name="s3-key" value={key} onChange={(e) => setKey((e.target as HTMLSelectElement).value)}>
            {keys.map((k) => <option key={k.access} value={k.access}>{k.access}</option>)}
            <option value="">{t('storage.s3NewKey')}</option>
          </select>
        </label>
      )}
      {keyMade && <p role="status">{t('storage.s3KeyMade', keyMade)}</p>}
      {temp && (
        <p role="status" class="secret">{t(temp.s3 ? 'storage.presignedMade' : 'storage.tempMade', temp.name)}{' '}
          <a href={temp.url} data-testid={temp.s3 ? 'presigned-url' : 'temp-url'}>{temp.url}</a></p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {rows === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{t('storage.empty')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('files.name')}</th>
              <th scope="col">{t('files.size')}</th>
              <th scope="col">{t('files.modified')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => {
              const short = o.name.slice(prefix.length);
              return (
                <tr key={o.name} data-name={short}>
                  <td>{o.prefix ? <a href="#" onClick={(e) => { e.preventDefault(); go(container, o.name); }}>{short}</a> : short}</td>
                  <td>{o.prefix ? t('files.folder') : formatSize(o.bytes)}</td>
                  <td>{Number.isNaN(o.modified.getTime()) ? '' : formatDate(o.modified)}</td>
                  <td class="actions">
                    {!o.prefix && <a href={objectUrl(project, container, o.name)} download={short}>{t('files.download')}</a>}
                    {!o.prefix && (
                      <button type="button" onClick={async () => {
                        try { setTemp({ name: short, url: await tempUrl(project, container, o.name, life()), s3: false }); } catch (err) { setError(t('error.generic', (err as Error).message)); }
                      }}>{t('storage.tempUrl')}</button>
                    )}
                    {!o.prefix && s3.endpoint && (
                      <button type="button" onClick={async () => {
                        try { setTemp({ name: short, url: await presign(o.name), s3: true }); } catch (err) { setError(t('error.generic', (err as Error).message)); }
                      }}>{t('storage.presigned')}</button>
                    )}
                    {!o.prefix && (
                      <button type="button" onClick={async () => {
                        try { await deleteObject(project, container, o.name); await refresh(); } catch (err) { setError(t('error.generic', (err as Error).message)); }
                      }}>{t('files.delete')}</button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}
