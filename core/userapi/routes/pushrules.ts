import { z } from 'zod';
import { endpoint, missingParam, notFound, type Endpoint } from '../../http/index.js';
import type { JsonObject } from '../../events/types.js';
import { RULE_KINDS, type PushAction, type RuleKind } from '../pusheval.js';
import { openDatabase } from '../../db/index.js';
import { PushRuleStore } from '../pushstore.js';

const BASE = '/_matrix/client/v3/pushrules';

/** Known string actions: notify, and the historical ones the server accepts and drops. */
const STRING_ACTIONS = ['notify', 'dont_notify', 'coalesce'] as const;

const action = z.union([
  z.enum(STRING_ACTIONS),
  z.looseObject({ set_tweak: z.string().min(1) }),
]);
const actions = z.array(action).max(100);

const scalar = z.union([z.string(), z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1), z.boolean(), z.null()]);

/** Known kinds must carry their parameters; unknown kinds are kept (they never match). */
const condition = z
  .looseObject({
    kind: z.string().min(1),
    key: z.string().optional(),
    pattern: z.string().optional(),
    is: z.string().optional(),
    value: scalar.optional(),
  })
  .superRefine((c, ctx) => {
    const need = (field: 'key' | 'pattern' | 'is' | 'value') => {
      if (c[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${c.kind} needs ${field}` });
    };
    switch (c.kind) {
      case 'event_match':
        need('key');
        need('pattern');
        break;
      case 'event_property_is':
      case 'event_property_contains':
        need('key');
        need('value');
        break;
      case 'room_member_count':
        need('is');
        if (c.is !== undefined && !/^(==|<=|>=|<|>)?[0-9]+$/.test(c.is)) ctx.addIssue({ code: 'custom', path: ['is'], message: 'not a member count' });
        break;
      case 'sender_notification_permission':
        need('key');
        break;
    }
  });

const ruleBody = z.object({
  actions,
  conditions: z.array(condition).max(100).optional(),
  pattern: z.string().min(1).optional(),
});

const kindParams = z.object({ kind: z.enum(RULE_KINDS) });
const ruleParams = z.object({ kind: z.enum(RULE_KINDS), ruleId: z.string().min(1) });

/**
 * The push rule endpoints (client-server spec, "Push Rules: API"), global scope only.
 * Without a store (the node's wiring before it passes one), rules live in a private
 * in-memory database and are lost on restart.
 */
export function pushRuleEndpoints(store: PushRuleStore = new PushRuleStore(openDatabase(':memory:'))): Endpoint[] {
  const find = (userId: string, kind: RuleKind, ruleId: string): JsonObject => {
    const rule = store.rule(userId, kind, ruleId);
    if (!rule) throw notFound(`No push rule ${kind}/${ruleId}`);
    return rule;
  };
  const byKind = (path: string) =>
    endpoint({
      method: 'GET',
      path,
      auth: 'user',
      params: kindParams,
      handler: ({ params, requester }) => store.rules(requester!.userId)[params.kind],
    });
  return [
    endpoint({ method: 'GET', path: `${BASE}/`, auth: 'user', handler: ({ requester }) => ({ global: store.rules(requester!.userId) }) }),
    endpoint({ method: 'GET', path: `${BASE}/global/`, auth: 'user', handler: ({ requester }) => store.rules(requester!.userId) }),
    byKind(`${BASE}/global/:kind`),
    byKind(`${BASE}/global/:kind/`),
    endpoint({
      method: 'GET',
      path: `${BASE}/global/:kind/:ruleId`,
      auth: 'user',
      params: ruleParams,
      handler: ({ params, requester }) => find(requester!.userId, params.kind, params.ruleId),
    }),
    endpoint({
      method: 'PUT',
      path: `${BASE}/global/:kind/:ruleId`,
      auth: 'user',
      rateLimited: true,
      params: ruleParams,
      query: z.object({ before: z.string().min(1).optional(), after: z.string().min(1).optional() }),
      body: ruleBody,
      handler: ({ params, query, body, requester }) => {
        if (params.kind === 'content' && body.pattern === undefined) throw missingParam('Content rules need a pattern');
        store.putRule(
          requester!.userId,
          params.kind,
          params.ruleId,
          {
            actions: body.actions as PushAction[],
            ...(body.conditions !== undefined ? { conditions: body.conditions as JsonObject[] } : {}),
            ...(body.pattern !== undefined ? { pattern: body.pattern } : {}),
          },
          {
            ...(query.before !== undefined ? { before: query.before } : {}),
            ...(query.after !== undefined ? { after: query.after } : {}),
          },
        );
        return {};
      },
    }),
    endpoint({
      method: 'DELETE',
      path: `${BASE}/global/:kind/:ruleId`,
      auth: 'user',
      params: ruleParams,
      handler: ({ params, requester }) => {
        store.deleteRule(requester!.userId, params.kind, params.ruleId);
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: `${BASE}/global/:kind/:ruleId/enabled`,
      auth: 'user',
      params: ruleParams,
      handler: ({ params, requester }) => ({ enabled: find(requester!.userId, params.kind, params.ruleId).enabled }),
    }),
    endpoint({
      method: 'PUT',
      path: `${BASE}/global/:kind/:ruleId/enabled`,
      auth: 'user',
      params: ruleParams,
      body: z.object({ enabled: z.boolean() }),
      handler: ({ params, body, requester }) => {
        store.setEnabled(requester!.userId, params.kind, params.ruleId, body.enabled);
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: `${BASE}/global/:kind/:ruleId/actions`,
      auth: 'user',
      params: ruleParams,
      handler: ({ params, requester }) => ({ actions: find(requester!.userId, params.kind, params.ruleId).actions }),
    }),
    endpoint({
      method: 'PUT',
      path: `${BASE}/global/:kind/:ruleId/actions`,
      auth: 'user',
      params: ruleParams,
      body: z.object({ actions }),
      handler: ({ params, body, requester }) => {
        store.setActions(requester!.userId, params.kind, params.ruleId, body.actions as PushAction[]);
        return {};
      },
    }),
  ];
}
