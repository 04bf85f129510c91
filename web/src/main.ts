/** The installer web UI: a hash router over the pages, behind the login. */
import { get, post, type SessionInfo, type User } from './api.js';
import { h, mount } from './dom.js';
import { accountPage } from './pages/account.js';
import { calibratePage } from './pages/calibrate.js';
import { dashboardPage } from './pages/dashboard.js';
import { impactPage } from './pages/impact.js';
import { journeysPage } from './pages/journeys.js';
import { livePage } from './pages/live.js';
import { loginPage } from './pages/login.js';
import { planPage } from './pages/plan.js';
import { usersPage } from './pages/users.js';
import { validatePage } from './pages/validate.js';

let user: User | null = null;

function nav(storeId: string, cameras: { id: string }[]): void {
  const route = location.hash || '#/dashboard';
  const link = (href: string, text: string) => h('a', { href, class: route.startsWith(href) ? 'active' : '' }, text);
  document.getElementById('top')!.replaceChildren(
    h('span', { class: 'brand' }, 'storepulse'),
    link('#/dashboard', 'Dashboard'),
    link('#/impact', 'Before/after'),
    link('#/journeys', 'Journeys'),
    link('#/plan', 'Floor plan'),
    ...cameras.map((c) => link(`#/live/${encodeURIComponent(c.id)}`, `Camera ${c.id}`)),
    ...(user?.role === 'installer' ? [link('#/users', 'Accounts')] : []),
    link('#/account', 'Your account'),
    h('span', { class: 'who' }, `${storeId} · ${user?.username} (${user?.role})`),
    h('a', { href: '#/login', onclick: async () => (await post('/ui/api/logout'), (user = null)) }, 'Log out'),
  );
}

async function render(): Promise<void> {
  const session = await get<SessionInfo>('/ui/api/session');
  user = session.user;
  const route = location.hash.replace(/^#\/?/, '') || 'dashboard';
  if (!user) {
    document.getElementById('top')!.replaceChildren(h('span', { class: 'brand' }, 'storepulse'));
    return loginPage(session, (u) => {
      user = u;
      location.hash = '#/dashboard';
      void render();
    });
  }
  if (route === 'login') {
    location.hash = '#/dashboard';
    return;
  }
  const { cameras } = await get<{ cameras: { id: string }[] }>('/ui/api/cameras');
  nav(session.store_id, cameras);
  const [page, arg] = route.split('/').map(decodeURIComponent) as [string, string | undefined];
  if (page === 'live' && arg) return livePage(arg, user);
  if (page === 'validate' && arg) return validatePage(arg, user);
  if (page === 'calibrate' && arg) return calibratePage(arg, user);
  if (page === 'users') return usersPage();
  if (page === 'impact') return impactPage(user);
  if (page === 'journeys') return journeysPage();
  if (page === 'plan') return planPage(user);
  if (page === 'account') return accountPage(user);
  return dashboardPage();
}

window.addEventListener('hashchange', () => void render().catch(showError));
void render().catch(showError);

function showError(err: unknown): void {
  mount(h('div', { class: 'card' }, h('p', { class: 'error' }, err instanceof Error ? err.message : String(err))));
}
