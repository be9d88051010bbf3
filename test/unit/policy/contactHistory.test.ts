import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { ConfigError, SuppressionError } from '../../../functions/core/errors.js';
import { CONTACT_CAP_REASON, ContactCounter, historyEntry } from '../../../functions/core/policy/contactHistory.js';

const bytes = (text: string) => Readable.from([Buffer.from(text)]);

describe('contact history', () => {
  it('an entry holds the ids of targets.csv as the extract had them, and the run day', async () => {
    const targets = 'id,rank,probability,value,expected_value\nc1,1,0.9,10,8\n"\'=x",2,0.8,10,7\n"a,b",3,0.7,10,6\n\'x,4,0.6,10,5\n';
    const text = await historyEntry(bytes(targets), 'targets.csv', new Date('2026-11-30T23:00:00Z'), true);
    expect(text).toBe('id,contacted\nc1,2026-11-30\n=x,2026-11-30\n"a,b",2026-11-30\n\'x,2026-11-30\n');
  });

  it('counts contacts within the last `days` days (today included) and caps at maxContacts', async () => {
    const counter = new ContactCounter({ maxContacts: 2, days: 30 }, new Date('2026-11-30T08:00:00Z'));
    await counter.addEntry(bytes('id,contacted\na,2026-11-30\nb,2026-11-01\nc,2026-10-31\n'), 'h1.csv'); // c: 31 days ago, outside
    await counter.addEntry(bytes('id,contacted\na,2026-11-15\nb,2026-11-02\nc,2026-11-20\n'), 'h2.csv');
    const over = counter.overCap();
    expect(over.reasonOf('a')).toBe(CONTACT_CAP_REASON);
    expect(over.reasonOf('b')).toBe(CONTACT_CAP_REASON);
    expect(over.reasonOf('c')).toBeNull();
    await expect(counter.addEntry(bytes('id,when\na,2026-11-30\n'), 'h3.csv')).rejects.toThrow(new SuppressionError('a contact history entry starts with the header id,contacted', { file: 'h3.csv', line: 1 }));
    await expect(counter.addEntry(bytes('id,contacted\nsecret,yesterday\n'), 'h4.csv')).rejects.toThrow('h4.csv:2:2: contacted is not a date YYYY-MM-DD');
  });
});

describe('policy settings in the economics', () => {
  const bundle = { costPerContact: 8, valuePerResponse: 120 };
  it('a run overrides the bundle with {"controlFraction": 0.1}; absent, no policy keys appear', () => {
    expect(resolveEconomics(bundle, { controlFraction: 0.1, controlSalt: 's', frequencyCap: { maxContacts: 1, days: 30 } })).toMatchObject({ controlFraction: 0.1, controlSalt: 's', frequencyCap: { maxContacts: 1, days: 30 } });
    expect(Object.keys(resolveEconomics(bundle))).not.toContain('controlFraction');
  });
  it('stays strict: an unknown key, a bad fraction or cap is ECONOMICS_INVALID naming the key', () => {
    expect(() => resolveEconomics(bundle, { controlFraktion: 0.1 })).toThrow(ConfigError);
    expect(() => resolveEconomics(bundle, { controlFraction: 0.9 })).toThrow(/controlFraction/);
    expect(() => resolveEconomics(bundle, { frequencyCap: { maxContacts: 1, days: 30, per: 'week' } })).toThrow(/frequencyCap: has a key that is not an economics setting \(not quoted\); the settings here are maxContacts, days/);
  });
});
