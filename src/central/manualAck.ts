/**
 * QoS 1 acknowledgements sent when central says so (after the PostgreSQL commit), not when mqtt.js
 * has handed the message over.
 *
 * Why not mqtt.js's `customHandleAcks` or an asynchronous `handleMessage`: mqtt.js reads the next
 * packet only after the current one's PUBACK is sent, so holding the PUBACK until a commit would
 * commit one message per transaction. Instead `handleMessage` takes the message and answers with a
 * "deferred" error, which mqtt.js treats as "send no PUBACK" and moves on to the next packet; the
 * PUBACK goes out later through the client's packet writer. That writer is not in mqtt.js's typed
 * API (5.x), so its presence is checked when the client is made: a future mqtt.js without it fails
 * at start-up with a clear message instead of silently never acknowledging.
 */
import type { MqttClient, IPublishPacket } from 'mqtt';

interface PacketWriter {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode?: number }, cb?: () => void): void;
}

/** Passed to mqtt.js's handleMessage callback: "handled; the acknowledgement comes later". */
export const DEFERRED_ACK = Object.assign(new Error('acknowledgement deferred until the database commit'), { deferred: true });

export function assertManualAckSupport(client: MqttClient): void {
  if (typeof (client as unknown as Partial<PacketWriter>)._sendPacket !== 'function') {
    throw new Error('this mqtt.js version has no packet writer for deferred acknowledgements (central needs mqtt 5.x)');
  }
}

/**
 * Routes every incoming PUBLISH to `take`. A QoS 1 message is acknowledged only by a later
 * `sendPubAck`; one never acknowledged is re-delivered by the broker when the session reconnects.
 */
export function deferAcks(client: MqttClient, take: (packet: IPublishPacket) => void): void {
  assertManualAckSupport(client);
  client.handleMessage = (packet, callback) => {
    take(packet);
    // QoS 0 has nothing to acknowledge: complete normally. QoS 1: skip mqtt.js's PUBACK.
    callback(packet.qos === 0 ? undefined : DEFERRED_ACK);
  };
}

export function sendPubAck(client: MqttClient, messageId: number): void {
  (client as unknown as PacketWriter)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
}
