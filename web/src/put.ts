// A PUT of a file with upload progress (fetch cannot report upload progress; XMLHttpRequest can),
// shared by the console and the public link page. Resolves with the HTTP status (0 when the
// request never got an answer) and never rejects.

export interface PutResult {
  status: number;
  statusText: string;
}

// X-OC-Mtime: the box keeps a file's own modification time.
export function mtimeHeader(file: Blob): Record<string, string> {
  return file instanceof File && file.lastModified ? { 'X-OC-Mtime': String(Math.floor(file.lastModified / 1000)) } : {};
}

export function putWithProgress(url: string, file: Blob, headers: Record<string, string>, onProgress: (sent: number) => void): Promise<PutResult> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve({ status: xhr.status, statusText: xhr.statusText || `HTTP ${xhr.status}` });
    xhr.onerror = () => resolve({ status: 0, statusText: 'network error' });
    xhr.send(file);
  });
}
