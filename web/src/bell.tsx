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
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
        </svg>
        {items.length > 0 && <span class="count">{items.length}</span>}
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
