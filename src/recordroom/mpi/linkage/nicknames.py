"""Given-name equivalents: formal names and the nicknames people give instead.

`NICKNAMES` is the table the demo generator draws its planted nicknames from (it
imports it from here); `MORE_NICKNAMES` widens what the engine recognises.
"""

from __future__ import annotations

from functools import cache

from recordroom.kernel.text import search_key

# Formal given name -> nicknames a registration clerk might be told instead.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"), "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Dick", "Rick", "Rich"), "James": ("Jim", "Jimmy"),
    "John": ("Jack", "Johnny"), "Michael": ("Mike",), "Christopher": ("Chris",),
    "Joseph": ("Joe", "Joey"), "Thomas": ("Tom", "Tommy"), "Charles": ("Charlie", "Chuck"),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony",),
    "Edward": ("Ed", "Ted", "Eddie"), "Alexander": ("Alex",), "Nicholas": ("Nick",),
    "Samuel": ("Sam",), "Benjamin": ("Ben",), "Jonathan": ("Jon",), "Steven": ("Steve",),
    "Stephen": ("Steve",), "Andrew": ("Andy", "Drew"), "Timothy": ("Tim",),
    "Kenneth": ("Ken", "Kenny"), "Ronald": ("Ron",), "Donald": ("Don",),
    "Gregory": ("Greg",), "Jeffrey": ("Jeff",), "Lawrence": ("Larry",),
    "Frederick": ("Fred",), "Harold": ("Harry",), "Henry": ("Hank",), "Gerald": ("Jerry",),
    "Raymond": ("Ray",), "Walter": ("Walt",), "Eugene": ("Gene",), "Albert": ("Al",),
    "Peter": ("Pete",), "Douglas": ("Doug",), "Phillip": ("Phil",), "Zachary": ("Zach",),
    "Joshua": ("Josh",), "Nathaniel": ("Nate",), "Jacob": ("Jake",), "David": ("Dave",),
    "Margaret": ("Peggy", "Maggie", "Meg"), "Elizabeth": ("Liz", "Beth", "Betty"),
    "Katherine": ("Kate", "Kathy"), "Catherine": ("Cathy", "Cat"), "Jennifer": ("Jen",),
    "Patricia": ("Pat", "Patty", "Trish"), "Deborah": ("Debbie", "Deb"),
    "Susan": ("Sue", "Susie"), "Barbara": ("Barb",), "Rebecca": ("Becky",),
    "Jessica": ("Jess",), "Victoria": ("Vicky", "Tori"), "Christina": ("Tina",),
    "Dorothy": ("Dot", "Dottie"), "Abigail": ("Abby",), "Samantha": ("Sam",),
    "Alexandra": ("Alex", "Sandra"), "Kimberly": ("Kim",), "Cynthia": ("Cindy",),
    "Pamela": ("Pam",), "Judith": ("Judy",), "Sandra": ("Sandy",), "Theodore": ("Ted",),
    "Francisco": ("Paco", "Frank"), "José": ("Pepe",), "Guadalupe": ("Lupe",),
    "Gabriel": ("Gabe",), "Isabella": ("Bella",), "Jacqueline": ("Jackie",),
}  # fmt: skip

MORE_NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Willy", "Liam"), "Robert": ("Bert", "Robbie"), "John": ("Jon",),
    "Edward": ("Ned", "Eddy"), "Margaret": ("Marge", "Margie", "Greta", "Daisy"),
    "Elizabeth": ("Eliza", "Lisa", "Betsy", "Libby", "Liza", "Bess"),
    "Mary": ("Molly", "Polly", "Mae"), "Ann": ("Annie", "Nan"), "Anne": ("Annie", "Nan"),
    "Helen": ("Nell",), "Eleanor": ("Ellie", "Nora", "Nell"), "Frances": ("Fran", "Frannie"),
    "Francis": ("Frank",), "Franklin": ("Frank",), "Virginia": ("Ginny",),
    "Charlotte": ("Lottie", "Charlie"), "Caroline": ("Carrie",), "Carolyn": ("Carrie",),
    "Christine": ("Chris", "Tina"), "Christian": ("Chris",), "Kristen": ("Kris",),
    "Michelle": ("Shelly",), "Cassandra": ("Cassie",), "Allison": ("Ally",),
    "Angela": ("Angie",), "Theresa": ("Terry", "Tess"), "Teresa": ("Terry", "Tess"),
    "Leonard": ("Leo", "Len"), "Vincent": ("Vince",), "Arthur": ("Art",),
    "Benedict": ("Ben",), "Bernard": ("Bernie",), "Louis": ("Lou",), "Lewis": ("Lou",),
    "Mitchell": ("Mitch",), "Maximilian": ("Max",), "Maxwell": ("Max",),
    "Randall": ("Randy",), "Russell": ("Russ",), "Stanley": ("Stan",),
    "Terrence": ("Terry",), "Wesley": ("Wes",), "Calvin": ("Cal",), "Clifford": ("Cliff",),
    "Curtis": ("Curt",), "Dennis": ("Denny",), "Frederic": ("Fred",), "Howard": ("Howie",),
    "Isaac": ("Ike",), "Jerome": ("Jerry",), "Johnathan": ("Jon", "John"),
    "Jonathon": ("Jon",), "Leroy": ("Roy",), "Martin": ("Marty",), "Nathan": ("Nate",),
    "Oliver": ("Ollie",), "Patrick": ("Pat", "Paddy"), "Philip": ("Phil",),
    "Ronnie": ("Ron",), "Sylvester": ("Sly",), "Timmothy": ("Tim",), "Tobias": ("Toby",),
    "Valerie": ("Val",), "Veronica": ("Ronnie",), "Jesús": ("Chuy",), "Ignacio": ("Nacho",),
    "Eduardo": ("Lalo",), "Enrique": ("Quique",), "Alejandro": ("Alex", "Ale"),
    "Manuel": ("Manny", "Manolo"), "Roberto": ("Beto",), "Alberto": ("Beto",),
    "Rosario": ("Chayo",), "Dolores": ("Lola",), "Concepción": ("Concha",),
    "Consuelo": ("Chelo",), "Mercedes": ("Meche",), "Refugio": ("Cuca",),
}  # fmt: skip


@cache
def _groups() -> dict[str, tuple[str, ...]]:
    """search key of a name -> keys of the formal names it may stand for."""
    out: dict[str, set[str]] = {}
    for table in (NICKNAMES, MORE_NICKNAMES):
        for formal, nicks in table.items():
            key = search_key(formal)
            out.setdefault(key, set()).add(key)
            for nick in nicks:
                out.setdefault(search_key(nick), set()).add(key)
    return {name: tuple(sorted(keys)) for name, keys in out.items()}


def formal_names(key: str) -> tuple[str, ...]:
    """The formal names a given-name search key may stand for, itself included:
    'bill' -> ('william',); 'alex' -> ('alexander', 'alexandra'); 'zoe' -> ('zoe',)."""
    if not key:
        return ()
    groups = _groups().get(key)
    if groups is None:
        return (key,)
    return groups if key in groups else (*groups, key)


def are_nicknames(a: str, b: str) -> bool:
    """Whether two given-name keys can be the same person's name ('bill', 'william')."""
    return bool(set(formal_names(a)) & set(formal_names(b)))
