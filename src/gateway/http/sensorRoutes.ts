/**
 * Sensor health and the dead-letter table: what an installer checks after wiring a door counter
 * ("is it talking? why are its messages refused?").
 */
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway.js';
import { ApiError } from './httpServer.js';

export function registerSensorRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get('/api/v1/sensors', async () => {
    const sensors = gateway.sensors;
    if (!sensors) throw new ApiError(503, 'sensors_unavailable', 'sensors are off (safe mode or no storage)');
    return sensors.status();
  });

  app.get<{ Querystring: { sensor?: string; after_id?: number; limit?: number } }>(
    '/api/v1/dead-letters',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { sensor: { type: 'string' }, after_id: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const store = gateway.store;
      if (!store) throw new ApiError(503, 'store_unavailable', 'storage is not open');
      const q = request.query;
      return { dead_letters: store.deadLetters.list({ sensor: q.sensor, after: q.after_id, limit: q.limit }) };
    },
  );
}
