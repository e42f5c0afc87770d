// App passwords: one per sync client (Nextcloud desktop, rclone, a phone), shown once at creation,
// revocable on its own without changing the user's password.
import { useState } from 'preact/hooks';
import { createAppPassword, deleteAppPassword, listAppPasswords, type AppPassword } from './api';
import { formatDate, t } from './i18n';
import { useLoad } from './useload';

export function AppPasswords() {
  const { items, error, run } = useLoad(listAppPasswords, []);
  const [name, setName] = useState('');
  const [fresh, setFresh] = useState<AppPassword | null>(null);

  return (
    <main class="apppasswords">
      <h1>{t('app.title')}</h1>
      <p>{t('app.intro', location.origin)}</p>
      <form class="newfolder" onSubmit={(e) => { e.preventDefault(); const n = name.trim(); if (n) run(async () => { setFresh(await createAppPassword(n)); setName(''); }); }}>
        <label>
          {t('app.client')}
          <input name="app-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('app.create')}</button>
      </form>
      {fresh && (
        <section class="secret" role="status">
          <p>{t('app.once', fresh.name)}</p>
          <dl>
            <dt>{t('login.username')}</dt>
            <dd><code data-testid="app-login">{fresh.login}</code></dd>
            <dt>{t('login.password')}</dt>
            <dd><code data-testid="app-password">{fresh.password}</code></dd>
          </dl>
        </section>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('app.none')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('app.client')}</th>
              <th scope="col">{t('app.created')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-name={a.name}>
                <td>{a.name}</td>
                <td>{formatDate(a.created)}</td>
                <td class="actions">
                  <button type="button" onClick={() => run(async () => { await deleteAppPassword(a.id); if (fresh?.id === a.id) setFresh(null); })}>
                    {t('app.revoke')}
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
