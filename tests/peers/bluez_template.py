'''python3-dbusmock's bluez5 template, plus two things storepulse's tests need.

1. The stock mock emits org.freedesktop.DBus.Properties.PropertiesChanged but does not declare it in
   its introspection data; dbus-next only routes signals it finds there, so it is declared here.
2. SetAdvertisement(device, rssi, company, manufacturer_bytes, service_uuid, service_bytes): sets a
   device's RSSI, ManufacturerData (a{qv}) and ServiceData (a{sv}) with the right D-Bus types,
   emitting PropertiesChanged like bluetoothd does. (dbus-next cannot marshal a{qv} from a test.)
'''
import dbus
import dbus.service
from dbusmock import mockobject
from dbusmock.templates import bluez5
from dbusmock.templates.bluez5 import *  # noqa: F401,F403  (BUS_NAME, SYSTEM_BUS, IS_OBJECT_MANAGER, ...)

DEVICE_IFACE = 'org.bluez.Device1'


@dbus.service.signal(dbus.PROPERTIES_IFACE, signature='sa{sv}as')
def PropertiesChanged(self, interface_name, changed_properties, invalidated_properties):
    '''Declaration only: the mock already emits it.'''


def load(mock, parameters):
    bluez5.load(mock, parameters)
    class_key = mockobject.DBusMockObject.__module__ + '.' + mockobject.DBusMockObject.__name__
    mock._dbus_class_table[class_key].setdefault(dbus.PROPERTIES_IFACE, {})['PropertiesChanged'] = PropertiesChanged
    mock.AddMethod('org.bluez.Mock', 'SetAdvertisement', 'onqaysay', '', '\n'.join([
        "device = objects[args[0]]",
        "device.Set('org.bluez.Device1', 'RSSI', dbus.Int16(args[1], variant_level=1))",
        "if len(args[3]): device.Set('org.bluez.Device1', 'ManufacturerData', dbus.Dictionary({dbus.UInt16(args[2]): dbus.Array(args[3], signature='y', variant_level=1)}, signature='qv', variant_level=1))",
        "if args[4]: device.Set('org.bluez.Device1', 'ServiceData', dbus.Dictionary({args[4]: dbus.Array(args[5], signature='y', variant_level=1)}, signature='sv', variant_level=1))",
    ]))
