/** The Rivulet mark: two streams on an indigo tile. Decorative; the brand name carries the meaning. */
export function BrandMark({ size = 28 }: { readonly size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path
        d="M7 11c4 0 4 4 8 4s4-4 8-4M7 17c4 0 4 4 8 4s4-4 8-4"
        fill="none"
        stroke="#fff"
        strokeWidth="2.5"
        strokeLinecap="round"
      />
    </svg>
  );
}
