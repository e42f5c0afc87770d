// Administration, for the cloud's administrators (the admin role on the admin project): users
// (create into a project with a role, enable/disable, delete), groups (create, members, delete),
// projects (create, usage of object storage and compute, compute quotas) and the audit log.
// Everything goes through the Keystone, Swift and Nova APIs; the server decides.
import { useEffect, useState } from 'preact/hooks';
import { accountUsage, adminCall } from './api';
import { formatSize, t } from './i18n';

interface User { id: string; name: string; enabled: boolean; default_project_id?: string }
interface Project { id: string; name: string; enabled: boolean }
interface Role { id: string; name: string }
interface Group { id: string; name: string }
interface Audit { seq: number; time: string; principal: string; action: string; target: string; outcome: string; source: string }
interface Quota { instances: number; cores: number; ram: number }

export function Admin() {
  const [users, setUsers] = useState<User[]>([]);
  const [projects, setProjects] = useState<Project[]>([]);
  const [roles, setRoles] = useState<Role[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [audit, setAudit] = useState<Audit[]>([]);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');

  async function refresh() {
    try {
      const [u, p, r, a, g] = await Promise.all([
        adminCall<{ users: User[] }>('GET', '/v3/users'),
        adminCall<{ projects: Project[] }>('GET', '/v3/projects'),
        adminCall<{ roles: Role[] }>('GET', '/v3/roles'),
        adminCall<{ records: Audit[] }>('GET', '/v3/ciel/audit?limit=1000'),
        adminCall<{ groups: Group[] }>('GET', '/v3/groups'),
      ]);
      setUsers(u.users);
      setGroups(g.groups);
      setProjects(p.projects);
      setRoles(r.roles);
      setAudit(a.records.slice(-50).reverse());
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }
  useEffect(() => { refresh(); }, []);

  async function run(fn: () => Promise<unknown>, done = '') {
    setError('');
    setMessage('');
    try {
      await fn();
      if (done) setMessage(done);
      await refresh();
    } catch (err) {
      setError(t('error.generic', (err as Error).message));
    }
  }

  return (
    <main class="admin">
      <h1>{t('admin.title')}</h1>
      {message && <p role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <NewUser projects={projects} roles={roles} onCreate={(u) => run(async () => {
        const made = await adminCall<{ user: User }>('POST', '/v3/users', { user: { name: u.name, password: u.password, domain_id: 'default', default_project_id: u.project } });
        await adminCall('PUT', `/v3/projects/${u.project}/users/${made.user.id}/roles/${u.role}`);
      }, t('admin.userMade', u.name))} />
      <h2>{t('admin.users')}</h2>
      <table class="listing">
        <thead><tr><th scope="col">{t('admin.name')}</th><th scope="col">{t('admin.project')}</th><th scope="col">{t('admin.enabled')}</th><th scope="col">{t('files.actions')}</th></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-name={u.name}>
              <td>{u.name}</td>
              <td>{projects.find((p) => p.id === u.default_project_id)?.name ?? ''}</td>
              <td>
                <input type="checkbox" checked={u.enabled} aria-label={`${t('admin.enabled')}: ${u.name}`}
                  onChange={(e) => run(() => adminCall('PATCH', `/v3/users/${u.id}`, { user: { enabled: (e.target as HTMLInputElement).checked } }))} />
              </td>
              <td class="actions">
                <button type="button" onClick={() => { if (confirm(t('admin.deleteUser', u.name))) run(() => adminCall('DELETE', `/v3/users/${u.id}`)); }}>{t('files.delete')}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('admin.groups')}</h2>
      <NewGroup onCreate={(name) => run(() => adminCall('POST', '/v3/groups', { group: { name, domain_id: 'default' } }), t('admin.groupMade', name))} />
      <table class="listing groups">
        <thead><tr><th scope="col">{t('admin.name')}</th><th scope="col">{t('admin.members')}</th><th scope="col">{t('files.actions')}</th></tr></thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id} data-name={g.name}>
              <td>{g.name}</td>
              <td><GroupMembers group={g} users={users} onError={(m) => setError(t('error.generic', m))} /></td>
              <td class="actions">
                <button type="button" onClick={() => { if (confirm(t('admin.deleteGroup', g.name))) run(() => adminCall('DELETE', `/v3/groups/${g.id}`)); }}>{t('files.delete')}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('admin.projects')}</h2>
      <NewProject onCreate={(name) => run(() => adminCall('POST', '/v3/projects', { project: { name, domain_id: 'default' } }), t('admin.projectMade', name))} />
      <table class="listing">
        <thead><tr><th scope="col">{t('admin.name')}</th><th scope="col">{t('admin.usage')}</th><th scope="col">{t('admin.quota')}</th></tr></thead>
        <tbody>
          {projects.map((p) => (
            <tr key={p.id} data-name={p.name}>
              <td>{p.name}</td>
              <td><Usage project={p} /></td>
              <td><QuotaEditor project={p} onSaved={() => setMessage(t('admin.quotaSaved', p.name))} onError={(m) => setError(t('error.generic', m))} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('admin.audit')}</h2>
      <table class="listing audit">
        <thead><tr><th scope="col">{t('admin.when')}</th><th scope="col">{t('admin.who')}</th><th scope="col">{t('admin.action')}</th><th scope="col">{t('admin.target')}</th><th scope="col">{t('admin.outcome')}</th></tr></thead>
        <tbody>
          {audit.map((a) => (
            <tr key={a.seq}>
              <td>{a.time}</td><td>{a.principal}</td><td>{a.action}</td><td>{a.target}</td><td>{a.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

function NewUser({ projects, roles, onCreate }: { projects: Project[]; roles: Role[]; onCreate: (u: { name: string; password: string; project: string; role: string }) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [project, setProject] = useState('');
  const [role, setRole] = useState('');
  const member = roles.find((r) => r.name === 'member')?.id ?? roles[0]?.id ?? '';
  return (
    <form class="launch" onSubmit={(e) => { e.preventDefault(); onCreate({ name: name.trim(), password, project: project || projects[0]?.id || '', role: role || member }); setName(''); setPassword(''); }}>
      <h2>{t('admin.newUser')}</h2>
      <label>{t('admin.name')}<input name="new-user" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <label>{t('login.password')}<input name="new-password" type="password" autocomplete="new-password" required minLength={8} value={password}
        onInput={(e) => setPassword((e.target as HTMLInputElement).value)} /></label>
      <label>{t('admin.project')}
        <select name="new-project" value={project} onChange={(e) => setProject((e.target as HTMLSelectElement).value)}>
          {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </label>
      <label>{t('admin.role')}
        <select name="new-role" value={role || member} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
          {roles.map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select>
      </label>
      <button type="submit">{t('admin.createUser')}</button>
    </form>
  );
}

function NewProject({ onCreate }: { onCreate: (name: string) => void }) {
  const [name, setName] = useState('');
  return (
    <form class="newfolder" onSubmit={(e) => { e.preventDefault(); if (name.trim()) onCreate(name.trim()); setName(''); }}>
      <label>{t('admin.name')}<input name="new-project-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">{t('admin.createProject')}</button>
    </form>
  );
}

function QuotaEditor({ project, onSaved, onError }: { project: Project; onSaved: () => void; onError: (m: string) => void }) {
  const [q, setQ] = useState<Quota | null>(null);
  useEffect(() => {
    adminCall<{ quota_set: Quota }>('GET', `/compute/v2.1/os-quota-sets/${project.id}`).then((r) => setQ(r.quota_set), (err) => onError(err.message));
  }, [project.id]);
  if (!q) return null;
  const field = (k: keyof Quota) => (
    <label class="quota">{t(`admin.q.${k}` as 'admin.q.instances')}
      <input type="number" min={-1} name={`quota-${k}`} value={q[k]} onInput={(e) => setQ({ ...q, [k]: Number((e.target as HTMLInputElement).value) })} />
    </label>
  );
  return (
    <form class="quotas" onSubmit={(e) => {
      e.preventDefault();
      const quota_set = { instances: q.instances, cores: q.cores, ram: q.ram };
      adminCall('PUT', `/compute/v2.1/os-quota-sets/${project.id}`, { quota_set }).then(onSaved, (err) => onError(err.message));
    }}>
      {field('instances')}{field('cores')}{field('ram')}
      <button type="submit">{t('admin.save')}</button>
    </form>
  );
}

function NewGroup({ onCreate }: { onCreate: (name: string) => void }) {
  const [name, setName] = useState('');
  return (
    <form class="newfolder" onSubmit={(e) => { e.preventDefault(); if (name.trim()) onCreate(name.trim()); setName(''); }}>
      <label>{t('admin.name')}<input name="new-group-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">{t('admin.createGroup')}</button>
    </form>
  );
}

// A group's members, each removable, and a user to add.
function GroupMembers({ group, users, onError }: { group: Group; users: User[]; onError: (m: string) => void }) {
  const [members, setMembers] = useState<User[] | null>(null);
  const [pick, setPick] = useState('');
  const load = () => adminCall<{ users: User[] }>('GET', `/v3/groups/${group.id}/users`).then((r) => setMembers(r.users), (err) => onError(err.message));
  useEffect(() => { load(); }, [group.id]);
  const change = (method: 'PUT' | 'DELETE', uid: string) =>
    adminCall(method, `/v3/groups/${group.id}/users/${uid}`).then(load, (err) => onError(err.message));
  if (!members) return null;
  const others = users.filter((u) => !members.some((m) => m.id === u.id));
  return (
    <div class="members">
      <ul>
        {members.map((m) => (
          <li key={m.id} data-member={m.name}>
            {m.name}{' '}
            <button type="button" aria-label={t('admin.removeMember', m.name, group.name)} onClick={() => change('DELETE', m.id)}>{t('admin.remove')}</button>
          </li>
        ))}
      </ul>
      {others.length > 0 && (
        <form class="quotas" onSubmit={(e) => { e.preventDefault(); const uid = pick || others[0].id; setPick(''); change('PUT', uid); }}>
          <select name="add-member" aria-label={t('admin.addMember', group.name)} value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
            {others.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
          </select>
          <button type="submit">{t('admin.add')}</button>
        </form>
      )}
    </div>
  );
}

// What a project uses: object storage (its Swift account) and servers (Nova's limits, as the admin).
function Usage({ project }: { project: Project }) {
  const [storage, setStorage] = useState<{ bytes: number; objects: number } | null>(null);
  const [compute, setCompute] = useState<{ instances: number; cores: number; ram: number } | null>(null);
  useEffect(() => {
    accountUsage(project.id).then(setStorage, () => setStorage(null));
    adminCall<{ limits: { absolute: Record<string, number> } }>('GET', `/compute/v2.1/limits?tenant_id=${encodeURIComponent(project.id)}`).then(
      (r) => setCompute({ instances: r.limits.absolute.totalInstancesUsed, cores: r.limits.absolute.totalCoresUsed, ram: r.limits.absolute.totalRAMUsed }),
      () => setCompute(null));
  }, [project.id]);
  return (
    <div class="usage">
      {storage && (
        <p data-testid="usage-storage" data-bytes={storage.bytes} data-objects={storage.objects}>
          {t('admin.usageStorage', formatSize(storage.bytes), storage.objects)}
        </p>
      )}
      {compute && (
        <p data-testid="usage-compute" data-instances={compute.instances}>
          {t('admin.usageCompute', compute.instances, compute.cores, compute.ram)}
        </p>
      )}
    </div>
  );
}
