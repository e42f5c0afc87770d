// S3 credentials: identity's EC2 credentials of the signed-in user for the current project. The
// secret is shown once, right after creation (listing never returns it).
import { useState } from 'preact/hooks';
import { createS3Credential, deleteS3Credential, listS3Credentials, type S3Credential } from './api';
import { t } from './i18n';
import { useLoad } from './useload';

export function Keys({ userId, project, projectName, endpoint }: { userId: string; project: string; projectName: string; endpoint: string }) {
  const { items: keys, error, run } = useLoad(() => listS3Credentials(userId), [userId]);
  const [fresh, setFresh] = useState<S3Credential | null>(null);

  return (
    <main class="keys">
      <h1>{t('keys.title')}</h1>
      <p>{t('keys.intro', projectName, endpoint)}</p>
      <div class="toolbar">
        <button type="button" onClick={() => run(async () => setFresh(await createS3Credential(userId, project)))}>{t('keys.create')}</button>
      </div>
      {fresh && (
        <section class="secret" role="status">
          <p>{t('keys.secretOnce')}</p>
          <dl>
            <dt>{t('keys.access')}</dt>
            <dd><code data-testid="new-access">{fresh.access}</code></dd>
            <dt>{t('keys.secret')}</dt>
            <dd><code data-testid="new-secret">{fresh.secret}</code></dd>
          </dl>
        </section>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {keys === null ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : keys.length === 0 ? (
        <p class="empty">{t('keys.none')}</p>
      ) : (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t('keys.access')}</th>
              <th scope="col">{t('keys.project')}</th>
              <th scope="col">{t('files.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.access} data-name={k.access}>
                <td><code>{k.access}</code></td>
                <td>{k.project === project ? projectName : k.project}</td>
                <td class="actions">
                  <button type="button" onClick={() => run(async () => { await deleteS3Credential(userId, k.access); if (fresh?.access === k.access) setFresh(null); })}>
                    {t('keys.delete')}
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
