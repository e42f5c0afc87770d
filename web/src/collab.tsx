// The side panel of a file or folder: its comments (newest first; add one, delete one's own) and
// the user's tags on it (add by name, made when new; remove).
import { useEffect, useState } from 'preact/hooks';
import { addComment, deleteComment, fileTags, listComments, tagFile, untagFile, type Comment, type Tag } from './api';
import { formatDate, t } from './i18n';

export function CollabPanel({ user, fileid, name, onClose }: { user: string; fileid: string; name: string; onClose: () => void }) {
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [tags, setTags] = useState<Tag[]>([]);
  const [message, setMessage] = useState('');
  const [tagName, setTagName] = useState('');
  const [error, setError] = useState('');

  async function attempt(fn: () => Promise<void>) {
    setError('');
    try {
      await fn();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }
  const refresh = () => attempt(async () => {
    const [c, g] = await Promise.all([listComments(fileid), fileTags(fileid)]);
    setComments(c);
    setTags(g);
  });
  useEffect(() => { refresh(); }, [fileid]);

  return (
    <section class="collab" aria-label={t('collab.of', name)}>
      <h2>{t('collab.of', name)}</h2>
      <h3>{t('collab.tags')}</h3>
      {tags.length === 0 ? <p class="empty">{t('collab.noTags')}</p> : (
        <ul class="tags">
          {tags.map((g) => (
            <li key={g.id} data-tag={g.name}>
              {g.name}{' '}
              <button type="button" aria-label={t('collab.removeTag', g.name)} onClick={() => attempt(async () => { await untagFile(fileid, g.id); await refresh(); })}>×</button>
            </li>
          ))}
        </ul>
      )}
      <form class="newfolder" onSubmit={(e) => { e.preventDefault(); const n = tagName.trim(); if (n) attempt(async () => { await tagFile(fileid, n); setTagName(''); await refresh(); }); }}>
        <label>{t('collab.newTag')}
          <input name="tag-name" value={tagName} onInput={(e) => setTagName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('collab.addTag')}</button>
      </form>
      <h3>{t('collab.comments')}</h3>
      <form class="launch" onSubmit={(e) => { e.preventDefault(); if (message.trim()) attempt(async () => { await addComment(fileid, message); setMessage(''); await refresh(); }); }}>
        <label>{t('collab.newComment')}
          <textarea name="comment" rows={3} maxLength={1000} value={message} onInput={(e) => setMessage((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button type="submit">{t('collab.post')}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {comments && comments.length === 0 && <p class="empty">{t('collab.noComments')}</p>}
      {comments && comments.length > 0 && (
        <ul class="comments">
          {comments.map((c) => (
            <li key={c.id} data-comment={c.id}>
              <p class="meta">{c.author} · {formatDate(c.created)}</p>
              <p class="message">{c.message}</p>
              {c.author === user && (
                <button type="button" onClick={() => attempt(async () => { await deleteComment(fileid, c.id); await refresh(); })}>{t('files.delete')}</button>
              )}
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={onClose}>{t('compute.close')}</button>
    </section>
  );
}
