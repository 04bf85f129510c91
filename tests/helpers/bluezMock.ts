/**
 * BlueZ without a radio: a private dbus-daemon (its own socket, nothing shared with the host) and
 * python3-dbusmock's bluez5 template (tests/peers/bluez_template.py). The test plays the radio
 * through the mock's control interface; the code under test sees org.bluez on the "system" bus
 * because DBUS_SYSTEM_BUS_ADDRESS points at the private one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import dbus from 'dbus-next';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { terminate } from './childProcess.js';
import { tempDir } from './gatewayHarness.js';

const TEMPLATE = path.join(PROJECT_ROOT, 'tests', 'peers', 'bluez_template.py');
// /usr/bin/python3 explicitly: a python3 earlier on PATH (pyenv, venv) lacks the Debian modules.
const PYTHON = '/usr/bin/python3';

export const hasBluezMock = (): boolean =>
  spawnSync('dbus-daemon', ['--version']).status === 0 && spawnSync(PYTHON, ['-c', 'import dbusmock, dbus']).status === 0;

type MockInterface = Record<string, (...args: unknown[]) => Promise<unknown>>;

export class BluezMock {
  private daemon: ChildProcess | undefined;
  private mock: ChildProcess | undefined;
  private control: ReturnType<typeof dbus.systemBus> | undefined;
  mockLog = '';

  private constructor(readonly address: string) {}

  static async start(): Promise<BluezMock> {
    const dir = await tempDir('dbus');
    const socket = path.join(dir, 'bus.sock');
    const config = path.join(dir, 'bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
    );
    const mock = new BluezMock(`unix:path=${socket}`);
    mock.daemon = spawn('dbus-daemon', ['--config-file', config, '--nofork', '--print-address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      mock.daemon!.stdout!.once('data', () => resolve());
      mock.daemon!.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    });
    process.env.DBUS_SYSTEM_BUS_ADDRESS = mock.address;
    await mock.startBluez();
    return mock;
  }

  /** Starts "bluetoothd" (the mock), with no adapter yet. */
  async startBluez(): Promise<void> {
    this.mock = spawn(PYTHON, ['-m', 'dbusmock', '--template', TEMPLATE], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: this.address }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.mock.stderr!.on('data', (d: Buffer) => (this.mockLog = (this.mockLog + d.toString()).slice(-4000)));
    this.control?.disconnect();
    this.control = dbus.systemBus();
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await this.mockInterface();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`dbusmock did not come up: ${(err as Error).message}\n${this.mockLog}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Kills "bluetoothd": org.bluez leaves the bus, as when the service restarts or crashes. */
  async stopBluez(): Promise<void> {
    const child = this.mock;
    this.mock = undefined;
    await terminate(child);
  }

  private async mockInterface(): Promise<MockInterface> {
    // A fresh proxy each time: introspection must include methods added after the first one.
    const root = await this.control!.getProxyObject('org.bluez', '/');
    return root.getInterface('org.bluez.Mock') as unknown as MockInterface;
  }

  async addAdapter(name = 'hci0'): Promise<string> {
    return (await (await this.mockInterface()).AddAdapter!(name, 'storepulse-test')) as string;
  }

  async removeAdapter(name = 'hci0'): Promise<void> {
    await (await this.mockInterface()).RemoveAdapterWithDevices!(name);
  }

  async addDevice(adapter: string, address: string, alias: string): Promise<string> {
    return (await (await this.mockInterface()).AddDevice!(adapter, address, alias)) as string;
  }

  async removeDevice(adapter: string, address: string): Promise<void> {
    await (await this.mockInterface()).RemoveDevice!(adapter, address);
  }

  /** One advertisement as bluetoothd reports it: RSSI plus manufacturer and/or service data. */
  async advertise(device: string, rssi: number, manufacturer?: { company: number; data: Buffer }, service?: { uuid: string; data: Buffer }): Promise<void> {
    await (await this.mockInterface()).SetAdvertisement!(device, rssi, manufacturer?.company ?? 0, manufacturer?.data ?? Buffer.alloc(0), service?.uuid ?? '', service?.data ?? Buffer.alloc(0));
  }

  async stop(): Promise<void> {
    this.control?.disconnect();
    await this.stopBluez();
    this.daemon?.kill('SIGTERM');
  }
}
