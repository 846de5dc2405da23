import { z } from 'zod';
import { endpoint, notFound, type Endpoint } from '../../http/index.js';
import { defaultPushRules, type PushRuleSet } from '../pushrules.js';

const KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;

/**
 * Reading push rules. Every user has the server-default rule set; changing rules
 * (PUT/DELETE, enabled, actions) comes with the push issue, and those paths answer
 * M_UNRECOGNIZED until then.
 */
export function pushRuleEndpoints(): Endpoint[] {
  const rules = (userId: string): PushRuleSet => defaultPushRules(userId);
  const find = (userId: string, kind: (typeof KINDS)[number], ruleId: string) => {
    const rule = rules(userId)[kind].find((r) => r.rule_id === ruleId);
    if (!rule) throw notFound(`No push rule ${kind}/${ruleId}`);
    return rule;
  };
  return [
    endpoint({ method: 'GET', path: '/_matrix/client/v3/pushrules/', auth: 'user', handler: ({ requester }) => ({ global: rules(requester!.userId) }) }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/pushrules/global/', auth: 'user', handler: ({ requester }) => rules(requester!.userId) }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/global/:kind/:ruleId',
      auth: 'user',
      params: z.object({ kind: z.enum(KINDS), ruleId: z.string().min(1) }),
      handler: ({ params, requester }) => find(requester!.userId, params.kind, params.ruleId),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/global/:kind/:ruleId/enabled',
      auth: 'user',
      params: z.object({ kind: z.enum(KINDS), ruleId: z.string().min(1) }),
      handler: ({ params, requester }) => ({ enabled: find(requester!.userId, params.kind, params.ruleId).enabled }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/global/:kind/:ruleId/actions',
      auth: 'user',
      params: z.object({ kind: z.enum(KINDS), ruleId: z.string().min(1) }),
      handler: ({ params, requester }) => ({ actions: find(requester!.userId, params.kind, params.ruleId).actions }),
    }),
  ];
}
