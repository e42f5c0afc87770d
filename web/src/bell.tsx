// The notifications bell in the header: how many there are, and a list to read and dismiss them.
import { useEffect, useState } from 'preact/hooks';
import { dismissNotification, listNotifications, type Notice } from './api';
import { formatDate, t } from './i18n';

export function Bell() {
  const [items, setItems] = useState<Notice[]>([]);
  const [open, setOpen] = useState(false);
  const load = () => listNotifications().then(setItems, () => setItems([]));
  useEffect(() => {
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, []);
  const dismiss = async (id?: string) => {
    await dismissNotification(id).catch(() => undefined);
    await load();
  };

  return (
    <div class="bell">
      <button type="button" aria-expanded={open} aria-label={t('notifications.count', items.length)} title={t('notifications.title')}
        onClick={() => { setOpen(!open); if (!open) load(); }}>
        🔔{items.length > 0 && <span class="count">{items.length}</span>}
      </button>
      {open && (
        <section class="bell-list" aria-label={t('notifications.title')}>
          {items.length === 0 ? <p class="empty">{t('notifications.none')}</p> : (
            <>
              <ul>
                {items.map((n) => (
                  <li key={n.id}>
                    <span>{n.subject}</span> <small>{formatDate(n.when)}</small>{' '}
                    <button type="button" onClick={() => dismiss(n.id)}>{t('notifications.dismiss')}</button>
                  </li>
                ))}
              </ul>
              <button type="button" onClick={() => dismiss()}>{t('notifications.dismissAll')}</button>
            </>
          )}
        </section>
      )}
    </div>
  );
}
