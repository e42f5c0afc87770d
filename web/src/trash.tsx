// The trash: what was deleted, newest first, with where it was; restore puts an item back where
// it was (the box renames it on a collision), delete-for-good purges it.
import { useEffect, useState } from 'preact/hooks';
import { listTrash, purge, restore, type TrashItem } from './api';
import { formatDate, t } from './i18n';

export function Trash({ user }: { user: string }) {
  const [items, setItems] = useState<TrashItem[] | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  async function refresh() {
    try {
      setItems(await listTrash(user));
    } catch (err) {
      setItems([]);
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { refresh(); }, [user]);

  async function act(item: TrashItem, what: 'restore' | 'purge') {
    setError('');
    try {
      if (what === 'restore') {
        await restore(user, item);
        const where = item.original.includes('/') ? item.original.slice(0, item.original.lastIndexOf('/')) : t('files.home');
        setMessage(t('trash.restored', item.name, where));
      } else {
        if (!confirm(t('trash.purgeConfirm', item.name))) return;
        await purge(user, item);
      }
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  return (
    <main class="trash">
      <h1>{t('trash.title')}</h1>
      {message && <p role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('trash.empty')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('files.name')}</th>
              <th scope="col">{t('trash.original')}</th>
              <th scope="col">{t('trash.deleted')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.id} data-name={i.name}>
                <td>{i.name}</td>
                <td>{i.original}</td>
                <td>{formatDate(i.deleted)}</td>
                <td class="actions">
                  <button type="button" onClick={() => act(i, 'restore')}>{t('trash.restore')}</button>
                  <button type="button" onClick={() => act(i, 'purge')}>{t('trash.purge')}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
