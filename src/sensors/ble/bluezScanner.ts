/**
 * BLE scanning through BlueZ's D-Bus API. node-ble controls the adapter (discovery on/off);
 * advertisements are followed here with dbus-next because node-ble does not surface
 * `InterfacesAdded` / `PropertiesChanged`: a `GetManagedObjects` snapshot, then the signals.
 *
 * A discovery filter is always set (LE, DuplicateData): per BlueZ's adapter API, with a filter the
 * RSSI delta threshold that plain StartDiscovery imposes is not applied, so a beacon's RSSI keeps
 * flowing. bluetoothd restarting (the `org.bluez` name changing owner) or the adapter vanishing is
 * survived: the scanner reports the radio down and reconnects when BlueZ or the adapter returns.
 *
 * Device object paths contain the radio address; they live in this process's memory only and are
 * never logged or passed on (the interpreter sees them as opaque handles).
 */
import dbus from 'dbus-next';
import { createBluetooth } from 'node-ble';
import type { Logger } from 'pino';
import type { Advertisement } from './bleInterpreter.js';

const { Message, Variant } = dbus;
type Bus = ReturnType<typeof dbus.systemBus>;
type DbusMessage = InstanceType<typeof Message>;

const DEVICE = 'org.bluez.Device1';
const ADAPTER = 'org.bluez.Adapter1';
const RETRY_MS = 3_000;

export interface ScannerOptions {
  /** hci0 …; the first adapter when undefined. */
  adapter: string | undefined;
  log: Logger;
  /** Returns whether the device is allow-listed: only those are remembered between signals. */
  onAdvert: (ad: Advertisement) => boolean;
  onDeviceGone: (device: string) => void;
  onRadio: (up: boolean, reason: string) => void;
}

interface DeviceState {
  address: string | undefined;
  rssi: number | undefined;
  manufacturerData: Map<number, Uint8Array>;
  serviceData: Map<string, Uint8Array>;
}

interface AdapterHelper {
  set(name: string, value: InstanceType<typeof Variant>): Promise<void>;
  callMethod(name: string, ...args: unknown[]): Promise<unknown>;
}

type Props = Record<string, InstanceType<typeof Variant>>;

export class BluezScanner {
  private bus: Bus | undefined;
  private adapterPath: string | undefined;
  private session: ReturnType<typeof createBluetooth> | undefined;
  private readonly devices = new Map<string, DeviceState>();
  private retryTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private stopped = false;
  private radioUp = false;

  constructor(private readonly options: ScannerOptions) {}

  async start(): Promise<void> {
    const bus = dbus.systemBus();
    this.bus = bus;
    bus.on('error', (err: Error) => this.options.log.error({ err: err.message }, 'BLE: D-Bus connection error'));
    bus.on('message', (m: DbusMessage) => this.onSignal(m));
    const match = (rule: string) =>
      bus.call(new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [rule] }));
    await match("type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager'");
    await match(`type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',arg0='${DEVICE}'`);
    await match("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'");
    await this.connectRadio();
  }

  get up(): boolean {
    return this.radioUp;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.connecting;
    const session = this.session;
    this.session = undefined;
    if (session && this.adapterPath) {
      try {
        const adapter = await session.bluetooth.getAdapter(this.adapterPath.split('/').pop()!);
        if (await adapter.isDiscovering()) await adapter.stopDiscovery();
      } catch {
        // BlueZ already gone: nothing to stop.
      }
    }
    session?.destroy();
    this.bus?.disconnect();
    this.bus = undefined;
  }

  /** Finds the adapter, powers it, starts discovery and replays the devices BlueZ already knows. */
  private connectRadio(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    if (this.stopped || !this.bus) return;
    clearTimeout(this.retryTimer);
    try {
      const root = await this.bus.getProxyObject('org.bluez', '/');
      const objectManager = root.getInterface('org.freedesktop.DBus.ObjectManager') as unknown as { GetManagedObjects(): Promise<Record<string, Record<string, Props>>> };
      const objects = await objectManager.GetManagedObjects();
      const adapters = Object.keys(objects).filter((p) => objects[p]![ADAPTER]).sort();
      const wanted = this.options.adapter;
      const adapterPath = wanted ? adapters.find((p) => p.endsWith(`/${wanted}`)) : adapters[0];
      if (!adapterPath) throw new Error(wanted ? `no adapter ${wanted}` : 'no Bluetooth adapter');
      const name = adapterPath.split('/').pop()!;
      this.session?.destroy();
      this.session = createBluetooth();
      const adapter = await this.session.bluetooth.getAdapter(name);
      // node-ble's typings leave out its bus helper, which is how it sets properties and calls methods.
      const { helper } = adapter as unknown as { helper: AdapterHelper };
      if (!(await adapter.isPowered())) await helper.set('Powered', new Variant('b', true));
      if (!(await adapter.isDiscovering())) await adapter.startDiscovery();
      // node-ble's filter is LE only; DuplicateData also reports every advertisement (see above).
      await helper.callMethod('SetDiscoveryFilter', { Transport: new Variant('s', 'le'), DuplicateData: new Variant('b', true) });
      this.adapterPath = adapterPath;
      this.devices.clear();
      for (const [path, ifaces] of Object.entries(objects)) {
        if (ifaces[DEVICE] && path.startsWith(`${adapterPath}/`)) this.update(path, ifaces[DEVICE]);
      }
      this.setRadio(true, `scanning on ${name}`);
    } catch (err) {
      this.setRadio(false, (err as Error).message);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connectRadio(), RETRY_MS);
    this.retryTimer.unref();
  }

  private setRadio(up: boolean, reason: string): void {
    if (up === this.radioUp) return;
    this.radioUp = up;
    this.options.onRadio(up, reason);
  }

  private lostRadio(reason: string): void {
    this.adapterPath = undefined;
    for (const path of this.devices.keys()) this.options.onDeviceGone(path);
    this.devices.clear();
    this.session?.destroy();
    this.session = undefined;
    this.setRadio(false, reason);
    this.scheduleRetry();
  }

  private onSignal(m: DbusMessage): void {
    if (m.type !== dbus.MessageType.SIGNAL) return;
    try {
      if (m.member === 'NameOwnerChanged' && m.body[0] === 'org.bluez') {
        if (m.body[2] === '') this.lostRadio('bluetoothd stopped');
        else void this.connectRadio();
      } else if (m.member === 'InterfacesAdded') {
        const [path, ifaces] = m.body as [string, Record<string, Props>];
        if (ifaces[ADAPTER] && !this.adapterPath) void this.connectRadio();
        if (ifaces[DEVICE] && this.adapterPath && path.startsWith(`${this.adapterPath}/`)) this.update(path, ifaces[DEVICE]);
      } else if (m.member === 'InterfacesRemoved') {
        const [path, ifaces] = m.body as [string, string[]];
        if (path === this.adapterPath && ifaces.includes(ADAPTER)) this.lostRadio('adapter removed');
        else if (ifaces.includes(DEVICE)) {
          this.devices.delete(path);
          this.options.onDeviceGone(path);
        }
      } else if (m.member === 'PropertiesChanged' && m.body[0] === DEVICE) {
        if (this.adapterPath && m.path.startsWith(`${this.adapterPath}/`)) this.update(m.path, m.body[1] as Props);
      }
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message, signal: m.member }, 'BLE: unreadable BlueZ signal ignored');
    }
  }

  /** Merges changed properties into what is known of the device and reports the advertisement. */
  private update(path: string, props: Props): void {
    const known = this.devices.get(path);
    const state: DeviceState = known ?? { address: undefined, rssi: undefined, manufacturerData: new Map(), serviceData: new Map() };
    if (props.Address) state.address = String(props.Address.value);
    if (props.RSSI) state.rssi = Number(props.RSSI.value);
    if (props.ManufacturerData) state.manufacturerData = toMap(props.ManufacturerData.value, Number);
    if (props.ServiceData) state.serviceData = toMap(props.ServiceData.value, (k) => k.toLowerCase());
    const dataChanged = !known || props.ManufacturerData !== undefined || props.ServiceData !== undefined;
    const matched = this.options.onAdvert({ device: path, ...state, rssi: props.RSSI ? state.rssi : undefined, dataChanged });
    // Only allow-listed devices are remembered; everyone else's phone is forgotten at once.
    if (matched) this.devices.set(path, state);
    else this.devices.delete(path);
    // Recognised by a data-only change: its signal strength came in an earlier signal, forgotten
    // then because the device was not yet known. Ask BlueZ for it once.
    if (matched && !known && !props.RSSI) void this.fetchRssi(path);
  }

  private async fetchRssi(path: string): Promise<void> {
    try {
      const reply = await this.bus?.call(
        new Message({ destination: 'org.bluez', path, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: [DEVICE, 'RSSI'] }),
      );
      const rssi = reply?.body[0] as InstanceType<typeof Variant> | undefined;
      if (!rssi || !this.devices.has(path)) return;
      const state = this.devices.get(path)!;
      state.rssi = Number(rssi.value);
      this.options.onAdvert({ device: path, ...state, dataChanged: false });
    } catch {
      // No RSSI yet (not heard since discovery started): the next advertisement brings it.
    }
  }
}

function toMap<K>(dict: unknown, key: (k: string) => K): Map<K, Uint8Array> {
  const map = new Map<K, Uint8Array>();
  if (!dict || typeof dict !== 'object') return map;
  for (const [k, v] of Object.entries(dict as Record<string, unknown>)) {
    const value = v instanceof Variant ? v.value : v;
    if (Buffer.isBuffer(value)) map.set(key(k), value);
    else if (Array.isArray(value)) map.set(key(k), Uint8Array.from(value as number[]));
  }
  return map;
}
