import { HttpError, post, type SessionInfo, type User } from '../api.js';
import { h, mount } from '../dom.js';

/** First run: claim the gateway with its setup code and set the admin password. Afterwards: log in. */
export function loginPage(session: SessionInfo, onLogin: (user: User) => void): void {
  const setup = session.setup_needed;
  const error = h('p', { class: 'error', id: 'login-error' });
  const username = h('input', { name: 'username', value: 'admin', autocomplete: 'username', required: true });
  const setupCode = h('input', { name: 'setup_code', autocomplete: 'off', autocapitalize: 'characters', required: setup, placeholder: 'XXXX-XXXX-XXXX', maxLength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: setup ? 'new-password' : 'current-password', required: true, minLength: setup ? 10 : 1 });
  const confirm = h('input', { name: 'confirm', type: 'password', autocomplete: 'new-password', minLength: 10 });
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.textContent = '';
        try {
          if (setup && password.value !== confirm.value) throw new Error('the two passwords differ');
          const result = setup
            ? await post<{ user: User }>('/ui/api/setup', { setup_code: setupCode.value, password: password.value })
            : await post<{ user: User }>('/ui/api/login', { username: username.value, password: password.value });
          onLogin(result.user);
        } catch (err) {
          error.textContent = err instanceof HttpError || err instanceof Error ? err.message : String(err);
        }
      },
    },
    h('h1', {}, setup ? 'Welcome: set the admin password' : `Log in to ${session.store_id}`),
    setup ? h('label', {}, h('span', {}, 'Setup code'), setupCode) : null,
    setup ? h('p', { class: 'muted', id: 'setup-code-hint' }, "The setup code is printed in the gateway's log and in data_dir/setup-code on the gateway.") : null,
    setup ? h('p', { class: 'muted' }, 'This password protects the installer account "admin". At least 10 characters.') : null,
    setup ? null : h('label', {}, h('span', {}, 'User'), username),
    h('label', {}, h('span', {}, setup ? 'New password' : 'Password'), password),
    setup ? h('label', {}, h('span', {}, 'Repeat it'), confirm) : null,
    h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, setup ? 'Set password' : 'Log in')),
    error,
  );
  mount(h('div', { class: 'card login' }, form));
  (setup ? setupCode : username).focus();
}
