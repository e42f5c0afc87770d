// The trash: what was deleted, newest first, with where it was; restore puts an item back where
// it was (the box renames it on a collision), delete-for-good purges it.
import { useState } from 'preact/hooks';
import { listTrash, purge, restore, type TrashItem } from './api';
import { formatDate, t } from './i18n';
import { useLoad } from './useload';

export function Trash({ user }: { user: string }) {
  const { items, error, run } = useLoad(() => listTrash(user), [user]);
  const [message, setMessage] = useState('');

  function act(item: TrashItem, what: 'restore' | 'purge') {
    if (what === 'purge' && !confirm(t('trash.purgeConfirm', item.name))) return;
    run(async () => {
      if (what === 'purge') {
        await purge(user, item);
        return;
      }
      await restore(user, item);
      const where = item.original.includes('/') ? item.original.slice(0, item.original.lastIndexOf('/')) : t('files.home');
      setMessage(t('trash.restored', item.name, where));
    });
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
