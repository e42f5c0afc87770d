// A file's preview beside the list: images as images, text files as text (their first 256 KiB),
// PDF documents in the browser's own viewer. The bytes come through WebDAV like a download; a
// PDF is shown from a blob typed application/pdf, never from the server's answer itself (files
// are served sandboxed: nothing in them may run on the console's origin).
import { useEffect, useState } from 'preact/hooks';
import { fileUrl, type Entry } from './api';
import { t } from './i18n';

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|avif)$/i;
const TEXT = /\.(txt|md|markdown|csv|tsv|json|log|xml|ya?ml|ini|conf|cfg|toml|c|cc|cpp|h|hpp|py|js|ts|tsx|sh|rs|go|java|sql|html?|css)$/i;
const PDF = /\.pdf$/i;
const TEXT_BYTES = 256 * 1024;

export type PreviewKind = 'image' | 'text' | 'pdf';

export function previewKind(entry: Entry): PreviewKind | null {
  if (entry.folder) return null;
  if (IMAGE.test(entry.name)) return 'image';
  if (PDF.test(entry.name)) return 'pdf';
  if (TEXT.test(entry.name)) return 'text';
  return null;
}

export function Preview({ user, entry, onClose }: { user: string; entry: Entry; onClose: () => void }) {
  const kind = previewKind(entry);
  const url = fileUrl(user, entry.path);
  const [text, setText] = useState<string | null>(null);
  const [pdf, setPdf] = useState<{ url: string; bytes: number } | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let live = true;
    let blobUrl = '';
    setText(null);
    setPdf(null);
    setError('');
    if (kind === 'text') {
      fetch(url, { credentials: 'same-origin', headers: { Range: `bytes=0-${TEXT_BYTES - 1}` } })
        .then(async (r) => {
          if (!r.ok) throw new Error(r.statusText || `HTTP ${r.status}`);
          const body = new TextDecoder('utf-8').decode(await r.arrayBuffer());
          if (live) setText(body);
        })
        .catch((e) => live && setError(t('error.generic', (e as Error).message)));
    } else if (kind === 'pdf') {
      fetch(url, { credentials: 'same-origin' })
        .then(async (r) => {
          if (!r.ok) throw new Error(r.statusText || `HTTP ${r.status}`);
          const bytes = await r.arrayBuffer();
          blobUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
          if (live) setPdf({ url: blobUrl, bytes: bytes.byteLength });
        })
        .catch((e) => live && setError(t('error.generic', (e as Error).message)));
    }
    return () => {
      live = false;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
    };
  }, [url, kind]);

  return (
    <section class="preview" aria-label={t('preview.of', entry.name)} data-kind={kind ?? ''}>
      <h2>{entry.name}</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {kind === 'image' && <img src={url} alt={entry.name} />}
      {kind === 'text' && text !== null && (
        <pre tabIndex={0}>{text}{entry.size > TEXT_BYTES ? `\n… ${t('preview.truncated')}` : ''}</pre>
      )}
      {kind === 'pdf' && pdf && <iframe src={pdf.url} title={entry.name} data-bytes={pdf.bytes} />}
      {kind === null && <p class="empty">{t('preview.none')}</p>}
      <p>
        <a href={url} download={entry.name}>{t('files.download')}</a>{' '}
        <button type="button" onClick={onClose}>{t('compute.close')}</button>
      </p>
    </section>
  );
}
