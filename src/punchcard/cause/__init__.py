"""Points for a cause: members give points to the causes a program lists, the shop may match them, and the totals
say what was given together."""
