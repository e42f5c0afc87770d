// The public link page's upload form (/s/<token>, rendered by the server, box/dav/link_page.cc):
// the visitor picks files, each goes up with its own progress bar through public WebDAV
// (PUT /public.php/dav/files/<token>/<folder>/<name>), one after the other. The page never
// replaces a file: If-None-Match: * (a file drop gives a taken name a number instead). The form carries what
// the script needs in data attributes, in the page's language:
//   data-target   the folder's public WebDAV URL, ending with '/'
//   data-uploaded, data-failed, data-exists, data-summary ("{done}" and "{total}")
// A password-protected link's page has set a cookie that public WebDAV accepts as the password.
import { mtimeHeader, putWithProgress } from './put';

const form = document.getElementById('upload') as HTMLFormElement | null;
const input = document.getElementById('upload-files') as HTMLInputElement | null;
const list = document.getElementById('upload-list');
const summary = document.getElementById('upload-status');

function text(name: string, values: Record<string, number> = {}): string {
  let t = form?.dataset[name] ?? name;
  for (const [k, v] of Object.entries(values)) t = t.replace(`{${k}}`, String(v));
  return t;
}

async function send(files: File[], target: string, button: HTMLButtonElement) {
  button.disabled = true;
  let done = 0;
  for (const file of files) {
    const row = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = file.name + ' ';
    const bar = document.createElement('progress');
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    const state = document.createElement('span');
    state.className = 'state';
    row.append(name, bar, ' ', state);
    list?.append(row);
    const headers: Record<string, string> = { ...mtimeHeader(file), 'If-None-Match': '*' };
    if (file.type) headers['Content-Type'] = file.type;
    const r = await putWithProgress(target + encodeURIComponent(file.name), file, headers, (sent) => (bar.value = sent));
    if (r.status >= 200 && r.status < 300) {
      bar.value = bar.max;
      state.textContent = text('uploaded');
      row.dataset.state = 'uploaded';
      done++;
    } else {
      state.textContent = r.status === 412 ? text('exists') : `${text('failed')} (${r.status ? r.status : r.statusText})`;
      row.dataset.state = 'failed';
    }
  }
  if (summary) summary.textContent = text('summary', { done, total: files.length });
  if (input) input.value = '';
  button.disabled = false;
}

if (form && input) {
  form.hidden = false;
  const button = form.querySelector('button') as HTMLButtonElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const files = Array.from(input.files ?? []);
    if (files.length > 0) void send(files, form.dataset.target ?? '', button);
  });
}
