// The share panel of a file or folder: the people and groups it is shared with (what each may do,
// changed or revoked in place), a form to share it with someone else; its public links (with what
// they allow, their expiry and whether a password guards them), a form to make one, and revocation.
import { useEffect, useState } from 'preact/hooks';
import {
  createLink, deleteShare, listLinks, listPeopleShares, searchSharees, sharePeople, updateShare,
  type Entry, type PeopleShare, type PublicLink, type Sharee,
} from './api';
import { t } from './i18n';

// What a share allows, as the three choices the panel offers (Nextcloud's permission sums).
function levels(folder: boolean) {
  return folder
    ? [{ value: 1, label: t('people.view') }, { value: 15, label: t('people.edit') }, { value: 31, label: t('people.editShare') }]
    : [{ value: 1, label: t('people.view') }, { value: 3, label: t('people.edit') }, { value: 19, label: t('people.editShare') }];
}

function PeopleSection({ entry }: { entry: Entry }) {
  const [shares, setShares] = useState<PeopleShare[] | null>(null);
  const [who, setWho] = useState('');
  const [found, setFound] = useState<Sharee[]>([]);
  const [level, setLevel] = useState(1);
  const [error, setError] = useState('');
  const fail = (err: unknown) => setError(t('error.generic', (err as Error).message));

  async function refresh() {
    try {
      setShares(await listPeopleShares(entry.path));
    } catch (err) {
      setShares([]);
      fail(err);
    }
  }
  useEffect(() => { refresh(); }, [entry.path]);
  useEffect(() => {
    let live = true;
    searchSharees(who).then((s) => { if (live) setFound(s); }, () => { if (live) setFound([]); });
    return () => { live = false; };
  }, [who]);

  async function add(e: Event) {
    e.preventDefault();
    setError('');
    // A name typed exactly as a group's (and no user's) shares with the group.
    const match = found.find((s) => s.name === who.trim());
    try {
      await sharePeople(entry.path, match?.shareType ?? 0, who.trim(), level);
      setWho('');
      await refresh();
    } catch (err) {
      fail(err);
    }
  }

  const choices = levels(entry.folder);
  return (
    <div class="people">
      <h3>{t('people.title')}</h3>
      <form class="launch" onSubmit={add}>
        <label>{t('people.who')}
          <input name="share-with" list="sharees" autocomplete="off" required value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
        </label>
        <datalist id="sharees">
          {found.map((s) => <option key={`${s.shareType}:${s.name}`} value={s.name}>{s.shareType === 1 ? t('people.group') : ''}</option>)}
        </datalist>
        <label>{t('people.may')}
          <select name="share-level" value={String(level)} onChange={(e) => setLevel(Number((e.target as HTMLSelectElement).value))}>
            {choices.map((c) => <option key={c.value} value={String(c.value)}>{c.label}</option>)}
          </select>
        </label>
        <button type="submit">{t('people.share')}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {shares && shares.length === 0 && <p class="empty">{t('people.none')}</p>}
      {shares && shares.length > 0 && (
        <ul class="links">
          {shares.map((s) => (
            <li key={s.id} data-share-with={s.shareWith}>
              <span>{s.shareType === 1 ? t('people.groupNamed', s.shareWith) : s.shareWith}</span>{' '}
              <select aria-label={t('people.mayOf', s.shareWith)} value={String(s.permissions)}
                onChange={async (e) => { try { await updateShare(s.id, Number((e.target as HTMLSelectElement).value)); await refresh(); } catch (err) { fail(err); } }}>
                {!choices.some((c) => c.value === s.permissions) && <option value={String(s.permissions)}>{t('people.custom', String(s.permissions))}</option>}
                {choices.map((c) => <option key={c.value} value={String(c.value)}>{c.label}</option>)}
              </select>{' '}
              <button type="button" onClick={async () => { try { await deleteShare(s.id); await refresh(); } catch (err) { fail(err); } }}>
                {t('share.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

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
      <PeopleSection entry={entry} />
      <h3>{t('share.links')}</h3>
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
              <button type="button" onClick={async () => { try { await deleteShare(l.id); await refresh(); } catch (err) { setError(t('error.generic', (err as Error).message)); } }}>
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
