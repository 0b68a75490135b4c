import { FormError } from './Field';

/** A form error with an optional list (password rules, field problems). */
export function ErrorBox({ message, items }: { message: string | null; items?: string[] }) {
  if (!message) return null;
  return (
    <FormError>
      <p>{message}</p>
      {items && items.length > 0 && (
        <ul>
          {items.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      )}
    </FormError>
  );
}
