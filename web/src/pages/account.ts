/**
 * The logged-in user's own account: change the password. Any role may do this (a store manager with
 * a viewer account too), so it is its own page rather than part of the installers' Accounts page,
 * which embeds the same card. The server (POST /ui/api/account/password) checks the current password,
 * counts a wrong one as a failed login, and ends every other session of the user.
 */
import { HttpError, post, type User } from '../api.js';
import { h, mount } from '../dom.js';

/** The server refuses shorter ones too; checked here so a typo is caught before a round trip. */
const MIN_PASSWORD_LENGTH = 10;

export function accountPage(user: User): void {
  mount(h('h1', {}, 'Your account'), h('p', { class: 'muted' }, `Logged in as ${user.username} (${user.role}).`), passwordCard(user.username));
}

/** The password-change form; `username` only feeds browsers' password managers (never sent). */
export function passwordCard(username?: string): HTMLElement {
  const message = h('p', { id: 'password-message', role: 'status' });
  const field = (name: string, autocomplete: string, minLength: number) => h('input', { name, type: 'password', autocomplete, required: true, minLength, maxLength: 256 });
  const current = field('current_password', 'current-password', 1);
  const fresh = field('new_password', 'new-password', MIN_PASSWORD_LENGTH);
  const repeat = field('new_password_repeat', 'new-password', MIN_PASSWORD_LENGTH);
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Change password');
  const show = (text: string, ok: boolean): void => {
    message.className = ok ? 'ok' : 'error';
    message.textContent = text;
  };
  const form = h(
    'form',
    {
      id: 'password-form',
      // The checks below give one message in the page's words instead of the browser's bubbles.
      noValidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        show('', true);
        if (current.value === '') return show('enter your current password', false);
        if (fresh.value !== repeat.value) return show('the two new passwords differ', false);
        if (fresh.value.length < MIN_PASSWORD_LENGTH) return show(`the new password needs at least ${MIN_PASSWORD_LENGTH} characters`, false);
        if (fresh.value === current.value) return show('the new password is the same as the current one', false);
        submit.disabled = true; // one change at a time: a double click would count as a wrong password
        try {
          const result = await post<{ ok: boolean; ended_sessions: number }>('/ui/api/account/password', { current_password: current.value, new_password: fresh.value });
          form.reset();
          const others = result.ended_sessions === 1 ? '1 other session was' : `${result.ended_sessions} other sessions were`;
          show(`Password changed. ${others} logged out; this one stays logged in.`, true);
        } catch (err) {
          // 403: wrong current password; 429: too many wrong ones; 400: the server's password rules.
          show(err instanceof HttpError || err instanceof Error ? err.message : String(err), false);
          current.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    // Lets a password manager file the new password under the right account.
    username ? h('input', { type: 'text', name: 'username', autocomplete: 'username', defaultValue: username, hidden: true, readOnly: true }) : null,
    h('label', {}, h('span', {}, 'Current password'), current),
    h('label', {}, h('span', {}, 'New password (10+ characters)'), fresh),
    h('label', {}, h('span', {}, 'Repeat the new password'), repeat),
    h('div', { class: 'row' }, submit),
    message,
  );
  return h('div', { class: 'card', id: 'password-card' }, h('h2', {}, 'Change your password'), h('p', { class: 'muted' }, 'Your other sessions (other browsers and devices) are logged out; this one stays.'), form);
}
