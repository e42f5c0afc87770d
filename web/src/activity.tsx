// The box's activity stream: what happened to the user's files and links, newest first, with a
// filter (everything, by the user, by others, sharing) and "load more" for older entries.
import { useEffect, useState } from 'preact/hooks';
import { listActivity, type Activity as Entry } from './api';
import { formatDate, hasKey, t } from './i18n';

const filters = [['all', 'activity.all'], ['self', 'activity.self'], ['by', 'activity.by'], ['files_sharing', 'activity.sharing']] as const;

export function Activity() {
  const [filter, setFilter] = useState('all');
  const [items, setItems] = useState<Entry[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState('');
  const [shown, setShown] = useState('');  // the filter whose entries are on screen

  async function load(since: number) {
    setError('');
    try {
      const page = await listActivity(filter, since);
      setItems((old) => (since && old ? [...old, ...page.items] : page.items));
      setMore(page.more);
      setShown(filter);
    } catch (err) {
      setItems((old) => old ?? []);
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { setItems(null); load(0); }, [filter]);

  const kind = (k: string) => { const key = `activity.kind.${k}`; return hasKey(key) ? t(key) : k; };
  return (
    <main class="activity" data-filter={shown}>
      <h1>{t('activity.title')}</h1>
      <label>
        <span>{t('activity.filter')}</span>{' '}
        <select name="filter" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}>
          {filters.map(([id, key]) => <option key={id} value={id}>{t(key)}</option>)}
        </select>
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('activity.empty')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('activity.what')}</th>
              <th scope="col">{t('activity.file')}</th>
              <th scope="col">{t('activity.who')}</th>
              <th scope="col">{t('activity.when')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-kind={a.kind}>
                <td>{kind(a.kind)}</td>
                <td>{a.oldPath ? t('activity.renamed', a.oldPath, a.path) : a.path}</td>
                <td>{a.self ? t('activity.you') : a.actor || t('activity.visitor')}</td>
                <td>{formatDate(a.when)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && items && <button type="button" onClick={() => load(items[items.length - 1].id)}>{t('activity.more')}</button>}
    </main>
  );
}
