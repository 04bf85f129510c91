/**
 * Accounts: installers add viewers (store managers) and other installers, and change their own
 * password. Anyone else who reaches this page gets only their own password form (accountPage).
 */
import { del, get, HttpError, post, type SessionInfo } from '../api.js';
import { h, mount } from '../dom.js';
import { accountPage, passwordCard } from './account.js';

interface Account {
  username: string;
  role: string;
  created_at: string;
}

export async function usersPage(): Promise<void> {
  // The router calls this for every role; the account list is for installers only (the server says so too).
  const { user } = await get<SessionInfo>('/ui/api/session');
  if (!user) {
    location.hash = '#/login'; // logged out meanwhile (e.g. by a password change elsewhere)
    return;
  }
  if (user.role !== 'installer') return accountPage(user);
  const body = h('tbody');
  const message = h('p', { class: 'error' });
  const render = (users: Account[]): void => {
    body.replaceChildren(
      ...users.map((u) =>
        h('tr', {}, h('td', {}, u.username), h('td', {}, u.role), h('td', {}, new Date(u.created_at).toLocaleDateString()), h('td', {}, h('button', { onclick: async () => render((await del<{ users: Account[] }>(`/ui/api/users/${encodeURIComponent(u.username)}`)).users) }, 'Remove'))),
      ),
    );
  };
  const username = h('input', { placeholder: 'user name' });
  const password = h('input', { type: 'password', placeholder: 'password (10+ characters)' });
  const role = h('select', {}, h('option', { value: 'viewer' }, 'viewer'), h('option', { value: 'installer' }, 'installer'));
  mount(
    h('h1', {}, 'Accounts'),
    h('div', { class: 'card' }, h('table', {}, h('thead', {}, h('tr', {}, ...['user', 'role', 'created', ''].map((t) => h('th', {}, t)))), body)),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Add an account'),
      h(
        'div',
        { class: 'row' },
        username,
        password,
        role,
        h(
          'button',
          {
            class: 'primary',
            onclick: async () => {
              message.textContent = '';
              try {
                render((await post<{ users: Account[] }>('/ui/api/users', { username: username.value, password: password.value, role: role.value })).users);
                username.value = '';
                password.value = '';
              } catch (err) {
                message.textContent = err instanceof HttpError ? err.message : String(err);
              }
            },
          },
          'Add',
        ),
      ),
      message,
    ),
    passwordCard(user.username),
  );
  render((await get<{ users: Account[] }>('/ui/api/users')).users);
}
