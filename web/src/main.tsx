// The console's entry: a session check, then the sign-in page or the signed-in shell.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, signOut, switchProject, type Session } from './api';
import { lang, setLang, t, type Lang } from './i18n';
import { use } from './signal';
import { Login } from './login';
import { Files } from './files';
import { Trash } from './trash';
import { Activity } from './activity';
import { Bell } from './bell';
import { Storage } from './storage';
import { Keys } from './keys';
import { Compute } from './compute';
import { AppPasswords } from './apppasswords';
import { Admin } from './admin';
import { Connect } from './connect';
import './style.css';

function LanguageSwitch() {
  const current = use(lang);
  return (
    <label class="lang">
      <span class="sr-only">{t('lang.label')}</span>
      <select value={current} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="fr">Français</option>
      </select>
    </label>
  );
}

// The page from the address's fragment: #/files/<path> (the default) or #/trash.
function usePage(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  for (const p of ['trash', 'activity', 'storage', 'keys', 'compute', 'apps', 'admin', 'connect']) {
    if (hash.startsWith(`#/${p}`)) return p;
  }
  return 'files';
}

function storageRoute(): string {
  return decodeURIComponent(location.hash.replace(/^#\/storage\/?/, ''));
}

function App() {
  use(lang);
  const page = usePage();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    document.documentElement.lang = lang.get();
    currentSession().then(setSession, () => setSession(null));
  }, []);

  if (session === undefined) return <main class="loading" aria-busy="true">{t('files.loading')}</main>;
  if (session === null) {
    return (
      <>
        <header class="bar">
          <span class="brand">{t('app.name')}</span>
          <LanguageSwitch />
        </header>
        <Login onSignedIn={setSession} note={page === 'connect' ? t('connect.signIn') : ''} />
      </>
    );
  }
  return (
    <>
      <header class="bar">
        <span class="brand">{t('app.name')}</span>
        <nav aria-label={t('app.name')}>
          <a href="#/files" aria-current={page === 'files' ? 'page' : undefined}>{t('nav.files')}</a>
          <a href="#/trash" aria-current={page === 'trash' ? 'page' : undefined}>{t('nav.trash')}</a>
          <a href="#/activity" aria-current={page === 'activity' ? 'page' : undefined}>{t('nav.activity')}</a>
          {session.project && <a href="#/storage" aria-current={page === 'storage' ? 'page' : undefined}>{t('nav.storage')}</a>}
          {session.project && <a href="#/keys" aria-current={page === 'keys' ? 'page' : undefined}>{t('nav.keys')}</a>}
          {session.project && <a href="#/compute" aria-current={page === 'compute' ? 'page' : undefined}>{t('nav.compute')}</a>}
          <a href="#/apps" aria-current={page === 'apps' ? 'page' : undefined}>{t('nav.apps')}</a>
          {session.roles.includes('admin') && <a href="#/admin" aria-current={page === 'admin' ? 'page' : undefined}>{t('nav.admin')}</a>}
        </nav>
        <span class="who">{t('session.user', session.user.name)}</span>
        <Bell />
        {session.projects.length > 0 && (
          <label class="lang">
            <span>{t('session.project')}</span>
            <select name="project" value={session.project?.id ?? ''}
              onChange={async (e) => { setSession(await switchProject((e.target as HTMLSelectElement).value)); }}>
              {session.projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </label>
        )}
        <LanguageSwitch />
        <button type="button" class="signout" onClick={async () => { await signOut(); setSession(null); }}>
          {t('session.signout')}
        </button>
      </header>
      <div key={session.project?.id ?? ''}>{/* a project switch starts every page afresh */}
      {page === 'trash' ? (
        <Trash user={session.user.name} />
      ) : page === 'activity' ? (
        <Activity />
      ) : page === 'storage' && session.project ? (
        <Storage project={session.project.id} route={storageRoute()}
          s3={{ user: session.user.id, endpoint: session.s3_endpoint, region: session.s3_region }} />
      ) : page === 'admin' && session.roles.includes('admin') ? (
        <Admin />
      ) : page === 'connect' ? (
        <Connect token={decodeURIComponent(location.hash.replace(/^#\/connect\/?/, ''))} user={session.user.name} />
      ) : page === 'apps' ? (
        <AppPasswords />
      ) : page === 'compute' && session.project ? (
        <Compute />
      ) : page === 'keys' && session.project ? (
        <Keys userId={session.user.id} project={session.project.id} projectName={session.project.name} endpoint={session.s3_endpoint} />
      ) : (
        <Files user={session.user.name} />
      )}
      </div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
