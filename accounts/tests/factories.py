"""factory_boy factories for accounts. `UserFactory(role="employee")` gives a saved,
verified user with that role through the service (the same path as the API); the
default is Viewer, `role=None` gives no role, `superuser=True` a superuser."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_set_role

DEFAULT_PASSWORD = "correct horse battery staple 42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        superuser = factory.Trait(is_superuser=True, is_staff=True)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    is_verified = True
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """`role=` a Role or its value; default Viewer; `role=None` for no role."""
        if not create:
            return
        role = Role.VIEWER if extracted is factory.declarations.NotProvided else extracted
        user_set_role(user=self, role=role or None)
