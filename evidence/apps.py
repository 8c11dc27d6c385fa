from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"

    def ready(self):
        from consents.checkpoints import register_signer
        from jobs.registry import JobKind, register

        from . import checkpoints, runners

        # Every successful ledger verification ends with a signed checkpoint of its head.
        register_signer(checkpoints.checkpoint_after_verification)

        register(
            JobKind(
                code=runners.CERTIFICATE,
                label=_("Proof-of-consent certificate"),
                runner=runners.run_certificate,
            )
        )
        register(
            JobKind(
                code=runners.PACK,
                label=_("Evidence pack"),
                runner=runners.run_pack,
                start_url="evidence:pack",
                start_label=_("New evidence pack"),
                describe=runners.describe_pack,
            )
        )
