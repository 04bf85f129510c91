/**
 * The password-change form in a real browser (Debian's chromium via playwright-core) against a real
 * gateway: separate browser contexts are separate browsers with their own cookies. A change made in
 * one ends the user's session in the other and keeps the one that made it; the old password stops
 * working; a wrong current password or two different new ones are refused with a message saying so.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { buildWebBundle, hasChromium, launchChromium } from '../helpers/browser.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

const OLD_PASSWORD = 'old admin password 1';
const NEW_PASSWORD = 'new admin password 2';
const VIEWER_PASSWORD = 'viewer password 1';

describe.skipIf(!hasChromium())('changing one’s own password in the browser', () => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let browser: Browser;
  let url: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    buildWebBundle(); // the page is new: never trust an older dist/web
    const dir = await tempDir('account-password');
    gateway = await Gateway.start({ ctx: testContext(), rawConfig: { data_dir: path.join(dir, 'data'), tls: { mode: 'off' }, cameras: [] } });
    const user = async (username: string, role: string, password: string) => ({ username, role, hash: await hashPassword(password), created_at: new Date(0).toISOString() });
    writeFileSync(path.join(gateway.config.data_dir, 'users.json'), JSON.stringify({ users: [await user('admin', 'installer', OLD_PASSWORD), await user('ana', 'viewer', VIEWER_PASSWORD)] }));
    server = buildServer(gateway, testContext());
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await gateway?.stop();
  });

  /** A fresh browser (own cookie jar) on the login page. */
  async function freshPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('input[name=password]').waitFor();
    return page;
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  }

  const loggedIn = (page: Page) => page.locator('header').getByText('Log out').waitFor();

  async function changePassword(page: Page, current: string, fresh: string, repeat = fresh): Promise<string> {
    const message = page.locator('#password-message');
    await page.fill('#password-form input[name=current_password]', current);
    await page.fill('#password-form input[name=new_password]', fresh);
    await page.fill('#password-form input[name=new_password_repeat]', repeat);
    // The form's own checks write their message while the click is handled; a request to the server
    // disables the button until its answer is shown, so an enabled button means the outcome is there.
    await page.click('#password-form button[type=submit]');
    await page.locator('#password-form button[type=submit]:not([disabled])').waitFor();
    return (await message.textContent()) ?? '';
  }

  it('ends the other session, keeps this one, and retires the old password', async () => {
    const a = await freshPage();
    const b = await freshPage();
    await logIn(a, 'admin', OLD_PASSWORD);
    await loggedIn(a);
    await logIn(b, 'admin', OLD_PASSWORD);
    await loggedIn(b);

    await a.goto(`${url}#/users`);
    await a.locator('#password-form').waitFor();

    // Refused before anything is sent, with the reason.
    expect(await changePassword(a, OLD_PASSWORD, NEW_PASSWORD, `${NEW_PASSWORD}x`)).toBe('the two new passwords differ');
    // Refused by the server: the current password is checked, the page stays (no bounce to the login).
    expect(await changePassword(a, 'not my password at all', NEW_PASSWORD)).toBe('the current password is wrong');
    expect(await a.locator('#password-message').getAttribute('class')).toBe('error');
    expect(a.url()).toMatch(/#\/users$/);
    // Nothing changed yet: the other browser is still in.
    expect((await b.request.get(`${url}ui/api/users`)).status()).toBe(200);

    expect(await changePassword(a, OLD_PASSWORD, NEW_PASSWORD)).toBe('Password changed. 1 other session was logged out; this one stays logged in.');
    expect(await a.locator('#password-message').getAttribute('class')).toBe('ok');

    // The other browser's session is gone: its API calls are refused and a reload shows the login.
    expect((await b.request.get(`${url}ui/api/users`)).status()).toBe(401);
    await b.reload();
    await b.locator('input[name=password]').waitFor();
    expect(await b.locator('header').getByText('Log out').count()).toBe(0);

    // The browser that made the change is still logged in.
    await a.reload();
    await a.locator('#password-form').waitFor();
    expect((await a.request.get(`${url}ui/api/users`)).status()).toBe(200);

    // The old password no longer works; the new one does.
    await logIn(b, 'admin', OLD_PASSWORD);
    await b.locator('#login-error').getByText('wrong user name or password').waitFor();
    await logIn(b, 'admin', NEW_PASSWORD);
    await loggedIn(b);
  }, 120_000);

  it('gives a viewer the same form on their own page', async () => {
    const page = await freshPage();
    await logIn(page, 'ana', VIEWER_PASSWORD);
    await loggedIn(page);
    // The router sends every role to the users page; a viewer gets only their own account there.
    await page.goto(`${url}#/users`);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Accounts' }).count()).toBe(0);
    expect(await changePassword(page, VIEWER_PASSWORD, 'short', 'short')).toBe('the new password needs at least 10 characters');
    expect(await changePassword(page, VIEWER_PASSWORD, 'viewer password 2')).toBe('Password changed. 0 other sessions were logged out; this one stays logged in.');
    expect((await page.request.get(`${url}ui/api/cameras`)).status()).toBe(200);
  }, 60_000);
});
