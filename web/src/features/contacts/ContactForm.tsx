/** Create or edit a contact: names, organisation, several e-mails/phones/addresses with types, birthday, notes, groups, photo. */
import { useId, useRef, useState, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, ImagePlus, Plus, Trash2, X } from 'lucide-react';
import { ApiError } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { Link, navigate } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { FormError, TextAreaField, TextField } from '../../ui/Field';
import { contactsKey, createContact, photoFromFile, photoUrl, updateContact, type Address, type Book, type Contact, type ContactInput, type Photo, type Typed } from './api';
import { hrefOf } from './links';

type Kind = 'email' | 'phone' | 'address';
const TYPES: Record<Kind, string[]> = { email: ['work', 'home', 'other'], phone: ['cell', 'work', 'home', 'fax', 'other'], address: ['work', 'home', 'other'] };

function TypeSelect({ kind, value, onChange, label }: { kind: Kind; value: string; onChange: (v: string) => void; label: string }) {
  const { t } = useI18n();
  const known = TYPES[kind];
  const options = known.includes(value) || !value ? known : [...known, value];
  return (
    <select className="input select ct-type" value={value || known[0]} onChange={(e) => onChange(e.target.value)} aria-label={label}>
      {options.map((o) => (
        <option key={o} value={o}>
          {known.includes(o) ? t(`contacts.type.${o as 'work' | 'home' | 'other' | 'cell' | 'fax'}`) : o}
        </option>
      ))}
    </select>
  );
}

function Section({ title, children, onAdd, addLabel }: { title: string; children: ReactNode; onAdd: () => void; addLabel: string }) {
  const id = useId();
  return (
    <fieldset className="ct-section" aria-labelledby={id}>
      <legend id={id} className="ct-section-title">
        {title}
      </legend>
      {children}
      <Button size="sm" variant="ghost" icon={<Plus size={16} aria-hidden="true" />} onClick={onAdd}>
        {addLabel}
      </Button>
    </fieldset>
  );
}

const normType = (kind: Kind, type: string | undefined): string => {
  const k = (type ?? '').toLowerCase().split(',').find((x) => TYPES[kind].includes(x) || x === 'mobile');
  return k === 'mobile' ? 'cell' : (k ?? (type ? type : TYPES[kind][0]!));
};

export function ContactForm({ book, contact, group, backHref }: { book: Book; contact: Contact | null; group: string | null; backHref: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [givenName, setGiven] = useState(contact?.givenName ?? '');
  const [familyName, setFamily] = useState(contact?.familyName ?? '');
  const [fn, setFn] = useState(contact?.fn ?? '');
  const [org, setOrg] = useState(contact?.org ?? '');
  const [title, setTitle] = useState(contact?.title ?? '');
  const [emails, setEmails] = useState<Typed[]>(contact ? contact.emails.map((e) => ({ value: e.value, type: normType('email', e.type) })) : [{ value: '', type: 'work' }]);
  const [phones, setPhones] = useState<Typed[]>(contact ? contact.phones.map((p) => ({ value: p.value, type: normType('phone', p.type) })) : [{ value: '', type: 'cell' }]);
  const [addresses, setAddresses] = useState<Address[]>(contact ? contact.addresses.map((a) => ({ ...a, type: normType('address', a.type) })) : []);
  const [birthday, setBirthday] = useState(contact?.birthday ?? '');
  const [note, setNote] = useState(contact?.note ?? '');
  const [groups, setGroups] = useState<string[]>(contact?.categories ?? (group ? [group] : []));
  const [newGroup, setNewGroup] = useState('');
  // undefined: unchanged; null: removed; Photo: new.
  const [photo, setPhoto] = useState<Photo | null | undefined>(undefined);
  const [photoError, setPhotoError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const autoName = [givenName.trim(), familyName.trim()].filter(Boolean).join(' ');

  const save = useMutation({
    mutationFn: async () => {
      const body: ContactInput = {
        fn: fn.trim() || autoName || emails.find((e) => e.value.trim())?.value.trim() || org.trim(),
        givenName: givenName.trim(),
        familyName: familyName.trim(),
        org: org.trim(),
        title: title.trim(),
        emails: emails.filter((e) => e.value.trim()).map((e) => ({ value: e.value.trim(), type: e.type ?? 'work' })),
        phones: phones.filter((p) => p.value.trim()).map((p) => ({ value: p.value.trim(), type: p.type ?? 'cell' })),
        addresses: addresses.filter((a) => [a.street, a.locality, a.postalCode, a.region, a.country].some((x) => x.trim())),
        birthday,
        note,
        categories: groups,
      };
      if (photo !== undefined) body.photo = photo;
      if (contact) body.etag = contact.etag;
      return contact ? updateContact(book.id, contact.id, body) : createContact(book.id, body);
    },
    onSuccess: (saved) => {
      qc.setQueryData<Contact[]>(contactsKey(book.id), (old) => (old ? [...old.filter((x) => x.id !== saved.id), saved] : old));
      void qc.invalidateQueries({ queryKey: contactsKey(book.id) });
      navigate(hrefOf({ book: book.id, group, contact: saved.id }));
    },
    onError: (e) => setError(e instanceof ApiError && e.code === 'precondition_failed' ? t('contacts.changedMeanwhile') : errorText(t, e)),
  });

  async function pickPhoto(file: File | undefined) {
    setPhotoError(null);
    if (!file) return;
    try {
      setPhoto(await photoFromFile(file));
    } catch {
      setPhotoError(t('contacts.photoBad'));
    }
  }

  const preview = photo ? `data:${photo.mediaType};base64,${photo.data}` : photo === undefined && contact?.hasPhoto ? photoUrl(book.id, contact) : null;
  const update = <T,>(list: T[], set: (v: T[]) => void, i: number, patch: Partial<T>) => set(list.map((x, j) => (j === i ? { ...x, ...patch } : x)));
  const remove = <T,>(list: T[], set: (v: T[]) => void, i: number) => set(list.filter((_, j) => j !== i));

  return (
    <form
      className="ct-form"
      aria-labelledby="ct-form-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        if (!fn.trim() && !autoName && !emails.some((x) => x.value.trim()) && !org.trim()) return setError(t('contacts.nameNeeded'));
        const badMail = emails.find((x) => x.value.trim() && !/^[^\s@]+@[^\s@]+$/.test(x.value.trim()));
        if (badMail) return setError(t('contacts.emailBad', { value: badMail.value }));
        save.mutate();
      }}
    >
      <Link href={backHref} className="ct-back">
        <ArrowLeft size={18} aria-hidden="true" />
        <span>{t('common.cancel')}</span>
      </Link>
      <h2 id="ct-form-title" className="ct-card-name">
        {contact ? t('contacts.editTitle', { name: contact.fn }) : t('contacts.newTitle')}
      </h2>

      <div className="ct-photo-row">
        {preview ? <img className="ct-avatar ct-avatar-96" src={preview} alt={t('contacts.photoAlt')} width={96} height={96} /> : <span className="ct-avatar ct-avatar-96 ct-hue-0" aria-hidden="true"><ImagePlus size={32} /></span>}
        <div className="stack-sm">
          <input ref={fileRef} type="file" accept="image/jpeg,image/png,image/webp,image/gif" className="visually-hidden" tabIndex={-1} aria-hidden="true" onChange={(e) => void pickPhoto(e.target.files?.[0])} data-testid="contact-photo-input" />
          <Button size="sm" icon={<ImagePlus size={16} aria-hidden="true" />} onClick={() => fileRef.current?.click()}>
            {preview ? t('contacts.photoChange') : t('contacts.photoAdd')}
          </Button>
          {preview && (
            <Button size="sm" variant="ghost" icon={<X size={16} aria-hidden="true" />} onClick={() => setPhoto(null)}>
              {t('contacts.photoRemove')}
            </Button>
          )}
          {photoError && <p className="field-error" role="alert">{photoError}</p>}
        </div>
      </div>

      <div className="ct-grid">
        <TextField label={t('contacts.givenName')} value={givenName} onChange={setGiven} maxLength={200} autoComplete="off" autoFocus />
        <TextField label={t('contacts.familyName')} value={familyName} onChange={setFamily} maxLength={200} autoComplete="off" />
        <TextField label={t('contacts.displayName')} value={fn} onChange={setFn} maxLength={500} placeholder={autoName} description={t('contacts.displayNameHint')} autoComplete="off" />
        <TextField label={t('contacts.org')} value={org} onChange={setOrg} maxLength={500} autoComplete="off" />
        <TextField label={t('contacts.jobTitle')} value={title} onChange={setTitle} maxLength={500} autoComplete="off" />
        <TextField label={t('contacts.birthday')} type="date" value={birthday} onChange={setBirthday} />
      </div>

      <Section title={t('contacts.emails')} onAdd={() => setEmails([...emails, { value: '', type: 'work' }])} addLabel={t('contacts.addEmail')}>
        {emails.map((e, i) => (
          <div key={i} className="ct-multi">
            <TypeSelect kind="email" value={e.type ?? ''} onChange={(v) => update(emails, setEmails, i, { type: v })} label={t('contacts.emailType', { n: i + 1 })} />
            <input className="input" type="email" value={e.value} onChange={(ev) => update(emails, setEmails, i, { value: ev.target.value })} aria-label={t('contacts.emailN', { n: i + 1 })} maxLength={500} autoComplete="off" />
            <IconButton label={t('contacts.removeEmail', { n: i + 1 })} icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => remove(emails, setEmails, i)} />
          </div>
        ))}
      </Section>

      <Section title={t('contacts.phones')} onAdd={() => setPhones([...phones, { value: '', type: 'cell' }])} addLabel={t('contacts.addPhone')}>
        {phones.map((p, i) => (
          <div key={i} className="ct-multi">
            <TypeSelect kind="phone" value={p.type ?? ''} onChange={(v) => update(phones, setPhones, i, { type: v })} label={t('contacts.phoneType', { n: i + 1 })} />
            <input className="input" type="tel" value={p.value} onChange={(ev) => update(phones, setPhones, i, { value: ev.target.value })} aria-label={t('contacts.phoneN', { n: i + 1 })} maxLength={500} autoComplete="off" />
            <IconButton label={t('contacts.removePhone', { n: i + 1 })} icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => remove(phones, setPhones, i)} />
          </div>
        ))}
      </Section>

      <Section title={t('contacts.addresses')} onAdd={() => setAddresses([...addresses, { type: 'work', street: '', locality: '', region: '', postalCode: '', country: '' }])} addLabel={t('contacts.addAddress')}>
        {addresses.map((a, i) => (
          <div key={i} className="ct-address-edit">
            <div className="ct-multi">
              <TypeSelect kind="address" value={a.type ?? ''} onChange={(v) => update(addresses, setAddresses, i, { type: v })} label={t('contacts.addressType', { n: i + 1 })} />
              <input className="input" value={a.street} onChange={(ev) => update(addresses, setAddresses, i, { street: ev.target.value })} aria-label={t('contacts.street', { n: i + 1 })} placeholder={t('contacts.streetPh')} maxLength={500} />
              <IconButton label={t('contacts.removeAddress', { n: i + 1 })} icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => remove(addresses, setAddresses, i)} />
            </div>
            <div className="ct-address-line">
              <input className="input" value={a.postalCode} onChange={(ev) => update(addresses, setAddresses, i, { postalCode: ev.target.value })} aria-label={t('contacts.postalCode', { n: i + 1 })} placeholder={t('contacts.postalCodePh')} maxLength={40} />
              <input className="input" value={a.locality} onChange={(ev) => update(addresses, setAddresses, i, { locality: ev.target.value })} aria-label={t('contacts.locality', { n: i + 1 })} placeholder={t('contacts.localityPh')} maxLength={200} />
              <input className="input" value={a.region} onChange={(ev) => update(addresses, setAddresses, i, { region: ev.target.value })} aria-label={t('contacts.region', { n: i + 1 })} placeholder={t('contacts.regionPh')} maxLength={200} />
              <input className="input" value={a.country} onChange={(ev) => update(addresses, setAddresses, i, { country: ev.target.value })} aria-label={t('contacts.country', { n: i + 1 })} placeholder={t('contacts.countryPh')} maxLength={200} />
            </div>
          </div>
        ))}
      </Section>

      <fieldset className="ct-section">
        <legend className="ct-section-title">{t('contacts.groups')}</legend>
        {groups.length > 0 ? (
          <ul className="ct-chips">
            {groups.map((g) => (
              <li key={g} className="ct-chip">
                {g}
                <button type="button" className="ct-chip-x" aria-label={t('contacts.removeGroup', { group: g })} onClick={() => setGroups(groups.filter((x) => x !== g))}>
                  <X size={12} aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="small muted">{t('contacts.noGroups')}</p>
        )}
        <div className="ct-multi">
          <input
            className="input"
            value={newGroup}
            onChange={(e) => setNewGroup(e.target.value)}
            aria-label={t('contacts.addGroupLabel')}
            placeholder={t('contacts.addGroupLabel')}
            maxLength={100}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                const g = newGroup.trim().replace(/,/g, ' ');
                if (g && !groups.includes(g)) setGroups([...groups, g]);
                setNewGroup('');
              }
            }}
          />
          <Button
            size="sm"
            icon={<Plus size={16} aria-hidden="true" />}
            onClick={() => {
              const g = newGroup.trim().replace(/,/g, ' ');
              if (g && !groups.includes(g)) setGroups([...groups, g]);
              setNewGroup('');
            }}
          >
            {t('contacts.addGroup')}
          </Button>
        </div>
      </fieldset>

      <TextAreaField label={t('contacts.note')} value={note} onChange={setNote} maxLength={20000} rows={4} />
      <FormError>{error}</FormError>
      <div className="ct-form-foot">
        <Link href={backHref} className="btn btn-secondary">
          {t('common.cancel')}
        </Link>
        <Button type="submit" variant="primary" loading={save.isPending}>
          {t('common.save')}
        </Button>
      </div>
    </form>
  );
}
