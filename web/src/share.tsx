// The share panel of a file or folder: its public links (with what they allow, their expiry and
// whether a password guards them), a form to make one, and revocation.
import { useEffect, useState } from 'preact/hooks';
import { createLink, deleteLink, listLinks, type Entry, type PublicLink } from './api';
import { t } from './i18n';

export function SharePanel({ entry, onClose }: { entry: Entry; onClose: () => void }) {
  const [links, setLinks] = useState<PublicLink[] | null>(null);
  const [permissions, setPermissions] = useState('1');
  const [password, setPassword] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState('');

  async function refresh() {
    try {
      setLinks(await listLinks(entry.path));
    } catch (err) {
      setLinks([]);
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { refresh(); }, [entry.path]);

  async function create(e: Event) {
    e.preventDefault();
    setError('');
    try {
      await createLink(entry.path, Number(permissions), password, expires);
      setPassword('');
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  const what = (p: number) => (p === 4 ? t('share.drop') : p === 1 ? t('share.read') : t('share.readWrite'));
  return (
    <section class="share" aria-label={t('share.of', entry.name)}>
      <h2>{t('share.of', entry.name)}</h2>
      <form class="launch" onSubmit={create}>
        <label>{t('share.access')}
          <select name="link-permissions" value={permissions} onChange={(e) => setPermissions((e.target as HTMLSelectElement).value)}>
            <option value="1">{t('share.read')}</option>
            {entry.folder && <option value="15">{t('share.readWrite')}</option>}
            {entry.folder && <option value="4">{t('share.drop')}</option>}
          </select>
        </label>
        <label>{t('share.password')}
          <input name="link-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>{t('share.expires')}
          <input name="link-expires" type="date" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('share.create')}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {links && links.length === 0 && <p class="empty">{t('share.none')}</p>}
      {links && links.length > 0 && (
        <ul class="links">
          {links.map((l) => (
            <li key={l.id} data-token={l.token}>
              <a href={l.url} target="_blank" rel="noopener noreferrer" data-testid="link-url">{l.url}</a>{' '}
              <span>{what(l.permissions)}</span>
              {l.passwordProtected && <span> · {t('share.guarded')}</span>}
              {l.expiration && <span> · {t('share.until', l.expiration.slice(0, 10))}</span>}{' '}
              <button type="button" onClick={async () => { try { await deleteLink(l.id); await refresh(); } catch (err) { setError(t('error.generic', (err as Error).message)); } }}>
                {t('share.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={onClose}>{t('compute.close')}</button>
    </section>
  );
}
