// Servers: launch (image, flavor, key pair, user data), the project's servers with their status
// refreshed while any is changing, start/stop/reboot/delete, the console log; key pairs (made
// here, the private key offered once, or imported) and images (uploaded with progress).
import { useEffect, useState } from 'preact/hooks';
import {
  consoleLog, createKeypair, deleteKeypair, launch, listFlavors, listImages, listKeypairs, listServers, serverAction, uploadImage,
  type Server,
} from './api';
import { formatSize, t } from './i18n';

type Flavor = Awaited<ReturnType<typeof listFlavors>>[number];
type Image = Awaited<ReturnType<typeof listImages>>[number];
type Keypair = Awaited<ReturnType<typeof listKeypairs>>[number];

const settled = new Set(['ACTIVE', 'SHUTOFF', 'ERROR', 'DELETED']);

export function Compute() {
  const [servers, setServers] = useState<Server[] | null>(null);
  const [images, setImages] = useState<Image[]>([]);
  const [flavors, setFlavors] = useState<Flavor[]>([]);
  const [keys, setKeys] = useState<Keypair[]>([]);
  const [error, setError] = useState('');
  const [log, setLog] = useState<{ server: Server; text: string } | null>(null);

  async function refresh() {
    try {
      const [s, i, f, k] = await Promise.all([listServers(), listImages(), listFlavors(), listKeypairs()]);
      setServers(s);
      setImages(i);
      setFlavors(f);
      setKeys(k);
    } catch (err) {
      setServers((s) => s ?? []);
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { refresh(); }, []);
  // Live status: poll while a server is building, stopping, starting or being deleted.
  const busy = (servers ?? []).some((s) => !settled.has(s.status) || s.task);
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => { listServers().then(setServers, () => {}); }, 2000);
    return () => clearInterval(timer);
  }, [busy]);

  async function run(fn: () => Promise<unknown>) {
    setError('');
    try {
      await fn();
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  async function showLog(s: Server) {
    try {
      setLog({ server: s, text: await consoleLog(s.id) });
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  return (
    <main class="compute">
      <h1>{t('compute.title')}</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <LaunchForm images={images} flavors={flavors} keys={keys} onLaunch={(r) => run(() => launch(r))} />
      {servers === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : servers.length === 0 ? (
        <p class="empty">{t('compute.none')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('compute.name')}</th>
              <th scope="col">{t('compute.status')}</th>
              <th scope="col">{t('compute.image')}</th>
              <th scope="col">{t('compute.ssh')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {servers.map((s) => (
              <tr key={s.id} data-name={s.name}>
                <td>{s.name}</td>
                <td data-testid="status">{s.status}{s.task ? ` (${s.task})` : ''}{s.fault ? ` — ${s.fault}` : ''}</td>
                <td>{images.find((i) => i.id === s.image)?.name ?? s.image}</td>
                <td><code>{s.ssh}</code></td>
                <td class="actions">
                  {s.status === 'SHUTOFF' && <button type="button" onClick={() => run(() => serverAction(s.id, 'start'))}>{t('compute.start')}</button>}
                  {s.status === 'ACTIVE' && <button type="button" onClick={() => run(() => serverAction(s.id, 'stop'))}>{t('compute.stop')}</button>}
                  {s.status === 'ACTIVE' && <button type="button" onClick={() => run(() => serverAction(s.id, 'reboot'))}>{t('compute.reboot')}</button>}
                  <button type="button" onClick={() => showLog(s)}>{t('compute.console')}</button>
                  <button type="button" onClick={() => { if (confirm(t('compute.deleteConfirm', s.name))) run(() => serverAction(s.id, 'delete')); }}>
                    {t('compute.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {log && (
        <section class="console" aria-label={t('compute.consoleOf', log.server.name)}>
          <h2>{t('compute.consoleOf', log.server.name)}</h2>
          <div class="toolbar">
            <button type="button" onClick={() => showLog(log.server)}>{t('compute.refresh')}</button>
            <button type="button" onClick={() => setLog(null)}>{t('compute.close')}</button>
          </div>
          <pre data-testid="console-log">{log.text}</pre>
        </section>
      )}
      <Keypairs keys={keys} onChange={refresh} onError={(m) => setError(t('error.generic', m))} />
      <Images images={images} onChange={refresh} onError={(m) => setError(t('error.generic', m))} />
    </main>
  );
}

function LaunchForm({ images, flavors, keys, onLaunch }: {
  images: Image[]; flavors: Flavor[]; keys: Keypair[];
  onLaunch: (r: { name: string; image: string; flavor: string; key: string; userData: string }) => void;
}) {
  const [name, setName] = useState('');
  const [image, setImage] = useState('');
  const [flavor, setFlavor] = useState('');
  const [key, setKey] = useState('');
  const [userData, setUserData] = useState('');
  const active = images.filter((i) => i.status === 'active');
  return (
    <form class="launch" onSubmit={(e) => {
      e.preventDefault();
      onLaunch({ name: name.trim(), image: image || active[0]?.id || '', flavor: flavor || flavors[0]?.id || '', key, userData });
      setName('');
    }}>
      <h2>{t('compute.launch')}</h2>
      <label>{t('compute.name')}<input name="server-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <label>{t('compute.image')}
        <select name="image" value={image} onChange={(e) => setImage((e.target as HTMLSelectElement).value)}>
          {active.map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
        </select>
      </label>
      <label>{t('compute.flavor')}
        <select name="flavor" value={flavor} onChange={(e) => setFlavor((e.target as HTMLSelectElement).value)}>
          {flavors.map((f) => <option key={f.id} value={f.id}>{`${f.name} (${f.vcpus} vCPU, ${f.ram} MiB, ${f.disk} GiB)`}</option>)}
        </select>
      </label>
      <label>{t('compute.keypair')}
        <select name="keypair" value={key} onChange={(e) => setKey((e.target as HTMLSelectElement).value)}>
          <option value="">{t('compute.noKey')}</option>
          {keys.map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
        </select>
      </label>
      <label>{t('compute.userData')}
        <textarea name="user-data" rows={4} value={userData} onInput={(e) => setUserData((e.target as HTMLTextAreaElement).value)} />
      </label>
      <button type="submit">{t('compute.launchButton')}</button>
    </form>
  );
}

function Keypairs({ keys, onChange, onError }: { keys: Keypair[]; onChange: () => void; onError: (m: string) => void }) {
  const [name, setName] = useState('');
  const [pub, setPub] = useState('');
  const [made, setMade] = useState<{ name: string; url: string } | null>(null);
  async function create(e: Event) {
    e.preventDefault();
    try {
      const k = await createKeypair(name.trim(), pub.trim() || undefined);
      if (k.private_key) setMade({ name: k.name, url: URL.createObjectURL(new Blob([k.private_key], { type: 'application/x-pem-file' })) });
      setName('');
      setPub('');
      onChange();
    } catch (err) {
      onError((err as Error).message);
    }
  }
  return (
    <section class="keypairs">
      <h2>{t('compute.keypairs')}</h2>
      <form class="launch" onSubmit={create}>
        <label>{t('compute.keyName')}<input name="key-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
        <label>{t('compute.publicKey')}<textarea name="public-key" rows={2} value={pub} onInput={(e) => setPub((e.target as HTMLTextAreaElement).value)} /></label>
        <button type="submit">{t('compute.createKey')}</button>
      </form>
      {made && (
        <p role="status">
          {t('compute.privateOnce', made.name)}{' '}
          <a href={made.url} download={`${made.name}.pem`} data-testid="private-key">{t('compute.downloadKey')}</a>
        </p>
      )}
      <table class="listing">
        <tbody>
          {keys.map((k) => (
            <tr key={k.name} data-name={k.name}>
              <td>{k.name}</td>
              <td><code>{k.fingerprint}</code></td>
              <td class="actions">
                <button type="button" onClick={() => deleteKeypair(k.name).then(onChange, (err) => onError(err.message))}>{t('compute.delete')}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Images({ images, onChange, onError }: { images: Image[]; onChange: () => void; onError: (m: string) => void }) {
  const [name, setName] = useState('');
  const [format, setFormat] = useState('qcow2');
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<{ sent: number; size: number } | null>(null);
  async function send(e: Event) {
    e.preventDefault();
    if (!file) return;
    try {
      setSent({ sent: 0, size: file.size });
      await uploadImage(name.trim() || file.name, format, file, (n) => setSent({ sent: n, size: file.size }));
      setSent({ sent: file.size, size: file.size });
      onChange();
    } catch (err) {
      onError((err as Error).message);
    }
  }
  return (
    <section class="images">
      <h2>{t('compute.images')}</h2>
      <form class="launch" onSubmit={send}>
        <label>{t('compute.imageName')}<input name="image-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
        <label>{t('compute.format')}
          <select name="format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
            <option value="qcow2">qcow2</option>
            <option value="raw">raw</option>
          </select>
        </label>
        <label>{t('compute.imageFile')}<input name="image-file" type="file" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} /></label>
        <button type="submit">{t('compute.uploadImage')}</button>
        {sent && <progress data-testid="image-progress" max={sent.size || 1} value={sent.sent} />}
      </form>
      <table class="listing">
        <tbody>
          {images.map((i) => (
            <tr key={i.id} data-name={i.name}>
              <td>{i.name}</td>
              <td>{i.status}</td>
              <td>{formatSize(i.size)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
