package hellomsk.twin.iam;

/** Why a sign-in is refused: one line for the broker log; the client only learns "Access denied", as on MSK. */
final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;

    Refusal(String reason) {
        super(reason, null, false, false);
    }
}
