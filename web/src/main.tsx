// The console's entry: a session check, then the sign-in page or the signed-in shell.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, signOut, type Session } from './api';
import { lang, setLang, t, type Lang } from './i18n';
import { use } from './signal';
import { Login } from './login';
import { Files } from './files';
import './style.css';

function LanguageSwitch() {
  const current = use(lang);
  return (
    <label class="lang">
      <span>{t('lang.label')}</span>
      <select value={current} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="fr">Français</option>
      </select>
    </label>
  );
}

function App() {
  use(lang);
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
        <Login onSignedIn={setSession} />
      </>
    );
  }
  return (
    <>
      <header class="bar">
        <span class="brand">{t('app.name')}</span>
        <nav aria-label={t('app.name')}>
          <a href="#/files" aria-current="page">{t('nav.files')}</a>
        </nav>
        <span class="who">
          {t('session.user', session.user.name)}
          {session.project ? ` · ${t('session.project')} ${session.project.name}` : ''}
        </span>
        <LanguageSwitch />
        <button type="button" class="signout" onClick={async () => { await signOut(); setSession(null); }}>
          {t('session.signout')}
        </button>
      </header>
      <Files user={session.user.name} />
    </>
  );
}

render(<App />, document.getElementById('app')!);
